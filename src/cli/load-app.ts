/** Loads an application module (`.ts` or `.js`) and checks that its default export is an application. */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Application, isApplication } from '../api/application.ts';
import { SluiceError } from '../core/errors.ts';
import { DagError } from '../dag/errors.ts';
import type { LogicalDag } from '../dag/logical-dag.ts';
import { CliError, firstLine } from './errors.ts';

export async function loadApp(appPath: string, cwd: string = process.cwd()): Promise<Application> {
  const file = resolve(cwd, appPath);
  await checkFile(appPath, file);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof DagError) throw e; // application() validates where it is declared: report it as such
    throw new CliError(`cannot load ${appPath}: ${describeLoadError(e)}`);
  }
  if (!('default' in mod) || mod.default === undefined) {
    throw new CliError(
      `${appPath} has no default export: end it with \`export default application('name', (dag) => { … })\``,
    );
  }
  const app = mod.default;
  if (!isApplication(app)) {
    throw new CliError(
      `the default export of ${appPath} is not an application (got ${kindOf(app)}): ` +
        "export the value of `application('name', (dag) => { … })` from 'sluice'",
    );
  }
  return app;
}

/**
 * The application's logical DAG, built as `run` and `plan` build it. An operator's constructor that
 * refuses its props (AlertConfigError, RedisConfigError) is bad input like an invalid DAG: one line and
 * exit 2, not a run failure.
 */
export function buildDag(app: Application, appPath: string): LogicalDag {
  try {
    return app.dag();
  } catch (e) {
    if (e instanceof DagError || !(e instanceof Error)) throw e;
    const code = e instanceof SluiceError ? ` (${e.code})` : '';
    throw new CliError(`cannot build the DAG of ${appPath}: ${e.message}${code}`);
  }
}

async function checkFile(appPath: string, file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) throw new CliError(`no such file: ${appPath} (looked for ${file})`);
  if (!info.isFile()) throw new CliError(`not a file: ${appPath}`);
}

function describeLoadError(e: unknown): string {
  if (isTransformError(e)) {
    // "Transform failed with 1 error:\n/tmp/app.ts:3:12: ERROR: Unexpected ";"": keep the located line.
    const located = e.message.split('\n')[1] ?? e.message;
    return `syntax error: ${located.replace(': ERROR: ', ': ').trim()}`;
  }
  if (e instanceof SyntaxError) return `syntax error: ${firstLine(e)}`;
  return firstLine(e);
}

/** tsx reports a syntax error in a TypeScript file as esbuild's TransformError. */
function isTransformError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'TransformError';
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `a function${value.name ? ` ${value.name}` : ''}`;
  if (typeof value === 'object') return `an object with keys ${Object.keys(value).join(', ') || '(none)'}`;
  return `a ${typeof value}`;
}
