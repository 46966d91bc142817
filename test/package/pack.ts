/**
 * Packs the repository as npm would publish it and installs the tarball into fresh projects outside
 * the repository, for test/package/consumer.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** What the build reads: a change to any of them makes dist/ stale. */
const BUILD_INPUTS = ['src', 'actors', 'supervisors', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end. The environment is the test's without npm's `npm_*` variables, which
 * `npm run` sets for the repository (its prefix, its package.json) and which would leak into the
 * consumer's npm.
 */
export function run(command: string, args: readonly string[], cwd: string): Promise<Ran> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
  const child = spawn(command, args, {
    cwd,
    env: { ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
}

/** Runs a command that must succeed; a failure throws with everything it printed. */
export async function ok(command: string, args: readonly string[], cwd: string): Promise<Ran> {
  const r = await run(command, args, cwd);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${r.code} in ${cwd}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** Builds dist/ unless it is newer than every build input (CI has just built it: no second build). */
export async function buildIfStale(): Promise<void> {
  const oldestOutput = await extremeMtime([join(repoRoot, 'dist')], Math.min);
  const newestInput = await extremeMtime(
    BUILD_INPUTS.map((p) => join(repoRoot, p)),
    Math.max,
  );
  if (oldestOutput === undefined || newestInput === undefined || newestInput >= oldestOutput) {
    await ok('npm', ['run', 'build'], repoRoot);
  }
}

/** The oldest (or newest) modification time of the files under `paths`; undefined if there are none. */
async function extremeMtime(paths: string[], pick: (...n: number[]) => number): Promise<number | undefined> {
  let found: number | undefined;
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) continue;
    const t = info.isDirectory()
      ? await extremeMtime(
          (await readdir(path)).map((name) => join(path, name)),
          pick,
        )
      : info.mtimeMs;
    if (t !== undefined) found = found === undefined ? t : pick(found, t);
  }
  return found;
}

export interface Packed {
  tarball: string;
  /** The paths in the tarball, relative to the package root. */
  files: string[];
}

/** `npm pack` into `dir`, scripts ignored: buildIfStale() has made dist/ match the sources. */
export async function pack(dir: string): Promise<Packed> {
  const r = await ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], repoRoot);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path) };
}

/** A new project in `dir` with this package.json, then `npm install` of `packages` into it. */
export async function newProject(
  dir: string,
  manifest: Record<string, unknown>,
  packages: readonly string[],
): Promise<Ran> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Not --prefer-offline: a user gets the newest versions in range of sluice's dependencies, and so must
  // this test (ioredis 6.1.0's declarations needed @types/redis-errors, which a cached 6.0.0 hid).
  return ok('npm', ['install', ...packages, '--no-audit', '--no-fund'], dir);
}

/** npm's warnings in what it printed, but for its advice on install scripts (README, "Installing"). */
export function warningsToActOn(printed: Ran): string[] {
  return `${printed.stdout}\n${printed.stderr}`
    .split('\n')
    .filter((line) => /^npm (warn|error)/i.test(line) && !/^npm warn install-scripts/i.test(line));
}
