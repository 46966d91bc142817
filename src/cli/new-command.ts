/**
 * `sluice new NAME`: scaffolds an application folder (scaffold-files.ts) and says what to run next. It
 * never writes into a directory that holds anything.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { CliError, EXIT_OK } from './errors.ts';
import { scaffoldFiles } from './scaffold-files.ts';

export interface NewCommandOptions {
  /** Where package.json takes sluice from (default: this sluice's own folder, `file:…`). */
  sluice?: string;
  cwd?: string;
  out?: NodeJS.WritableStream;
}

/** npm's rules for a package name without a scope: it is also the directory and the application name. */
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

export async function newCommand(name: string, options: NewCommandOptions): Promise<number> {
  if (!NAME.test(name) || name.length > 214) {
    throw new CliError(
      `"${name}" cannot name an application folder and package: use lower-case letters, digits, '-', '.' or '_'`,
    );
  }
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, name);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new CliError(`${relative(cwd, dir) || dir} already exists and is a file: choose another name`);
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new CliError(`${relative(cwd, dir) || dir} already exists and is not empty: choose another name`);
  }
  const require = createRequire(import.meta.url);
  const own = require('sluice/package.json') as {
    version: string;
    devDependencies: Record<string, string>;
  };
  // sluice is not on the npm registry: by default the new package takes this very sluice, from its folder.
  const ownRoot = dirname(require.resolve('sluice/package.json'));
  const tools = ['@types/node', 'typescript', 'vitest'];
  const files = scaffoldFiles({
    name,
    sluice: options.sluice === undefined ? `file:${ownRoot}` : sluiceSpec(options.sluice, cwd, dir),
    devDependencies: Object.fromEntries(tools.map((t) => [t, own.devDependencies[t] ?? 'latest'])),
  });
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  const out = options.out ?? process.stdout;
  out.write(`created ${name}/: ${Object.keys(files).join(', ')}\n`);
  if (options.sluice === undefined && !existsSync(join(ownRoot, 'dist'))) {
    out.write(`first: npm run build in ${ownRoot} (the new package imports its compiled dist/)\n`);
  }
  out.write(`next: cd ${name} && npm install && npm test && npm start\n`);
  return EXIT_OK;
}

/**
 * What the new package.json names as sluice. A path (`./x.tgz`, `../x`, `/x`, or one that exists from
 * here) is taken from where the command runs, as a shell user means it, and written as an absolute
 * `file:` (npm reads a relative one from the new folder, and `dir/x.tgz` as a GitHub repository); a
 * `file:` spec is npm's, relative to the new folder. Either must exist. Anything else (a version range,
 * a git URL) is written as given.
 */
function sluiceSpec(spec: string, cwd: string, dir: string): string {
  if (spec.startsWith('file:')) {
    const target = spec.slice('file:'.length);
    if (!existsSync(resolve(dir, target))) {
      throw new CliError(
        `--sluice ${spec}: nothing at ${resolve(dir, target)} (a file: path is read from the new folder)`,
      );
    }
    return spec;
  }
  const looksLikePath =
    /^(\.{1,2}[\\/]|[\\/])/.test(spec) || spec.endsWith('.tgz') || existsSync(resolve(cwd, spec));
  if (!looksLikePath) return spec;
  const target = resolve(cwd, spec);
  if (!existsSync(target)) throw new CliError(`--sluice ${spec}: nothing at ${target}`);
  return `file:${target}`;
}
