/**
 * `sluice new NAME`: the folder it writes typechecks (its own tsconfig, strict) and its test passes, with
 * `sluice` resolved to this repository's sources the way an installed package is found: a node_modules
 * link to the repository, whose exports have a `sluice-source` condition. The folder lies inside the
 * repository (an ignored .scaffold-check/) so that vitest, typescript and @types/node resolve to ours.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sluice } from './cli-process.ts';

const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
let base: string;
let app: string;

beforeAll(async () => {
  await mkdir(join(repoRoot, '.scaffold-check'), { recursive: true });
  base = await mkdtemp(join(repoRoot, '.scaffold-check', 'new-'));
  await mkdir(join(base, 'node_modules'));
  await symlink(repoRoot, join(base, 'node_modules', 'sluice'), 'dir');
  const r = await sluice(['new', 'orders'], base);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('next: cd orders && npm install && npm test && npm start');
  app = join(base, 'orders');
});
afterAll(async () => {
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('sluice new', { timeout: 120_000 }, () => {
  it('writes an application, its test, package.json and tsconfig.json', async () => {
    const files = (await readdir(app, { recursive: true })).sort();
    expect(files).toEqual(
      [
        '.gitignore',
        'README.md',
        'package.json',
        'src',
        'src/app.ts',
        'test',
        'test/app.test.ts',
        'tsconfig.json',
      ].sort(),
    );
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    // sluice is not on the npm registry: the package takes this sluice from its folder.
    expect(pkg).toMatchObject({
      name: 'orders',
      type: 'module',
      dependencies: { sluice: `file:${repoRoot.replace(/\/$/, '')}` },
    });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(['@types/node', 'typescript', 'vitest']);
    expect(pkg.scripts.test).toBe('vitest run');
    const source = readFileSync(join(app, 'src', 'app.ts'), 'utf8');
    expect(source).toContain("application(\n    'orders',");
    expect(source).toContain('.keyBy(');
    expect(source).toContain('FileSink');
  });

  it('typechecks with its own strict tsconfig', async () => {
    // Its tsconfig, plus the condition that picks sluice's sources instead of a build.
    const config = { extends: './tsconfig.json', compilerOptions: { customConditions: ['sluice-source'] } };
    await writeFile(join(app, 'tsconfig.check.json'), JSON.stringify(config));
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.check.json', '--pretty', 'false'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("passes its own test: the app under a failure and a kill, then chaos's random schedules", async () => {
    const config = `export default {
  ssr: { resolve: { conditions: ['sluice-source', 'module', 'node', 'development|production'] } },
  test: { include: ['test/**/*.test.ts'] },
};
`;
    await writeFile(join(app, 'vitest.check.config.mjs'), config);
    const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.check.config.mjs'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Tests\s+2 passed \(2\)/);
  });

  it('takes sluice from where --sluice says, and refuses a bad name or a folder that is not empty', async () => {
    writeFileSync(join(base, `sluice-${version}.tgz`), ''); // stands for a packed tarball
    const r = await sluice(['new', 'from-tarball', '--sluice', `file:../sluice-${version}.tgz`], base);
    expect(r.code, r.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(join(base, 'from-tarball', 'package.json'), 'utf8'));
    expect(pkg.dependencies).toEqual({ sluice: `file:../sluice-${version}.tgz` });
    // A path as a shell user types it, from where the command runs: written as an absolute file: spec
    // (npm would read a relative one from the new folder, and `dir/x.tgz` as a GitHub repository).
    await mkdir(join(base, 'packed'));
    writeFileSync(join(base, 'packed', `sluice-${version}.tgz`), '');
    for (const [folder, spec] of [
      ['from-path', `./packed/sluice-${version}.tgz`],
      ['from-bare-path', `packed/sluice-${version}.tgz`],
    ]) {
      const made = await sluice(['new', folder!, '--sluice', spec!], base);
      expect(made.code, made.stderr).toBe(0);
      const deps = JSON.parse(readFileSync(join(base, folder!, 'package.json'), 'utf8')).dependencies;
      expect(deps).toEqual({ sluice: `file:${join(base, 'packed', `sluice-${version}.tgz`)}` });
    }
    const missing = await sluice(['new', 'from-nothing', '--sluice', './nowhere/sluice.tgz'], base);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `sluice: --sluice ./nowhere/sluice.tgz: nothing at ${join(base, 'nowhere', 'sluice.tgz')}\n`,
    );
    const again = await sluice(['new', 'orders'], base);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('sluice: orders already exists and is not empty: choose another name\n');
    writeFileSync(join(base, 'a-file'), '');
    const file = await sluice(['new', 'a-file'], base);
    expect(file.code).toBe(2);
    expect(file.stderr).toBe('sluice: a-file already exists and is a file: choose another name\n');
    const bad = await sluice(['new', 'My App'], base);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sluice: "My App" cannot name an application folder and package/);
  });
});
