/**
 * sluice as a dependency: the repository packed as npm would publish it, the tarball installed into
 * fresh projects in a temporary directory outside the repository, used as the README's "Using sluice in
 * your project" says. One project is plain ESM and strict TypeScript, installed as a new user would (no
 * overrides); the other is CommonJS, with the README's optional cbor-extract override.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appJs, appMjs, appTs, badTs, indexCjs, tsconfigBadJson, tsconfigJson } from './consumer-files.ts';
import {
  buildIfStale,
  newProject,
  ok,
  type Packed,
  pack,
  type Ran,
  repoRoot,
  run,
  warningsToActOn,
} from './pack.ts';

const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
const SETUP_MS = 10 * 60_000;

let tmp: string;
let packed: Packed;
let esm: { dir: string; install: Ran };
let cjs: { dir: string; install: Ran };

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'sluice-consumer-'));
  await buildIfStale();
  packed = await pack(tmp);
  const esmDir = join(tmp, 'esm-ts');
  const cjsDir = join(tmp, 'cjs');
  const [esmInstall, cjsInstall] = await Promise.all([
    newProject(esmDir, { name: 'esm-ts', private: true, type: 'module' }, [
      packed.tarball,
      '@types/node@^20',
    ]),
    newProject(cjsDir, { name: 'cjs', private: true, overrides: { 'cbor-extract': '2.2.2' } }, [
      packed.tarball,
    ]),
  ]);
  esm = { dir: esmDir, install: esmInstall };
  cjs = { dir: cjsDir, install: cjsInstall };
  const files: [string, string, string][] = [
    [esmDir, 'app.mjs', appMjs],
    [esmDir, 'app.ts', appTs],
    [esmDir, 'app.js', appJs],
    [esmDir, 'bad.ts', badTs],
    [esmDir, 'tsconfig.json', tsconfigJson],
    [esmDir, 'tsconfig.bad.json', tsconfigBadJson],
    [cjsDir, 'index.js', indexCjs],
  ];
  await Promise.all(files.map(([dir, name, text]) => writeFile(join(dir, name), text)));
}, SETUP_MS);

afterAll(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe('the packed package', { timeout: 60_000 }, () => {
  it('holds the compiled code, its declarations and source maps, the bin and its hooks: no sources, tests or bench', () => {
    const unexpected = packed.files.filter(
      (f) =>
        !f.startsWith('dist/') &&
        !['package.json', 'README.md', 'src/cli/bin.js', 'src/cli/sluice-resolve-hooks.mjs'].includes(f),
    );
    expect(unexpected).toEqual([]);
    for (const entry of [
      'dist/src/index',
      'dist/actors/index',
      'dist/src/testkit/index',
      'dist/src/cli/main',
    ]) {
      expect(packed.files).toContain(`${entry}.js`);
      expect(packed.files).toContain(`${entry}.d.ts`);
      expect(packed.files).toContain(`${entry}.js.map`);
    }
    expect(packed.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs into a new project without a warning the user must act on, and without sluice’s dev tools', () => {
    expect(warningsToActOn(esm.install)).toEqual([]);
    expect(warningsToActOn(cjs.install)).toEqual([]);
    for (const devTool of ['typescript', 'vitest', '@biomejs/biome']) {
      expect(existsSync(join(cjs.dir, 'node_modules', devTool))).toBe(false);
    }
  });

  it('runs an application built from sluice/actors in a plain Node ESM script, with no loader', async () => {
    const r = await ok('node', ['app.mjs'], esm.dir);
    expect(JSON.parse(r.stdout)).toEqual([
      [1, [0, 2, 4]],
      [2, [6, 8, 10]],
      [3, [12, 14, 16]],
    ]);
    expect(r.stderr).toBe('');
  });

  it('runs an application from a CommonJS script, with require() and import() sharing one sluice', async () => {
    const r = await ok('node', ['index.js'], cjs.dir);
    expect(JSON.parse(r.stdout)).toEqual([
      [1, [0, 1]],
      [2, [2, 3]],
    ]);
    expect(r.stderr).toBe('');
  });

  it('with the README’s cbor-extract override, loads the prebuilt native extension of cbor-x', async () => {
    const manifest = JSON.parse(
      readFileSync(join(cjs.dir, 'node_modules', 'cbor-extract', 'package.json'), 'utf8'),
    );
    expect(manifest.version).toBe('2.2.2');
    const r = await ok('node', ['-e', "console.log(typeof require('cbor-extract').extractStrings)"], cjs.dir);
    expect(r.stdout.trim()).toBe('function');
  });

  it('typechecks a strict NodeNext TypeScript application that uses sluice, sluice/actors and sluice/testkit', async () => {
    const r = await run(tsc, ['-p', 'tsconfig.json'], esm.dir);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('still refuses, in that project, a stream from an output of numbers to an input of strings', async () => {
    const r = await run(tsc, ['-p', 'tsconfig.bad.json'], esm.dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/^bad\.ts\(7,\d+\): error TS2345: .*InputHandle<string>/m);
  });

  it('runs the TypeScript application with `npx sluice run app.ts`, and a JavaScript one, without a build', async () => {
    const ts = await ok('npx', ['sluice', 'run', 'app.ts', '--windows', '3'], esm.dir);
    expect(ts.stdout.trim().split('\n')).toEqual([
      'ts-consumer [1] {"n":0,"doubled":0}',
      'ts-consumer [1] {"n":1,"doubled":2}',
      'ts-consumer [2] {"n":2,"doubled":4}',
      'ts-consumer [2] {"n":3,"doubled":6}',
      'ts-consumer [3] {"n":4,"doubled":8}',
      'ts-consumer [3] {"n":5,"doubled":10}',
    ]);
    // On worker-thread containers, a drill's recovery included (the workers load modules of the build: a
    // module only loaded by URL was missing from the package). ConsoleSink is at-least-once: a replayed
    // window prints again.
    const drilled = await ok(
      'npx',
      [
        'sluice',
        'run',
        'app.ts',
        '--windows',
        '3',
        '--containers',
        '2',
        '--fault',
        'actor:double@2',
        '--store',
        '.sluice/drilled',
      ],
      esm.dir,
    );
    expect(new Set(drilled.stdout.trim().split('\n'))).toEqual(new Set(ts.stdout.trim().split('\n')));
    expect(drilled.stderr).toMatch(/recovered double, print from window 0/);
    const js = await ok('npx', ['sluice', 'run', 'app.js', '--windows', '2'], esm.dir);
    expect(js.stdout.trim().split('\n')).toEqual([
      'js-consumer [1] 0',
      'js-consumer [1] 2',
      'js-consumer [2] 4',
      'js-consumer [2] 6',
    ]);
  });
});
