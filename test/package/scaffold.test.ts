/**
 * `sluice new` as a user meets it: the packed tarball installed into a fresh directory outside the
 * repository, `sluice new` run from there with `--sluice file:<tarball>`, then in the new folder
 * `npm install`, `npm run typecheck`, `npm test` and `npm start` — out of the box, nothing edited.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIfStale, newProject, ok, pack, type Ran, warningsToActOn } from './pack.ts';

const SETUP_MS = 10 * 60_000;

let tmp: string;
let app: string;
let install: Ran;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'sluice-new-'));
  await buildIfStale();
  const packed = await pack(tmp);
  // Somewhere to run the command from: sluice installed from the tarball.
  const tool = join(tmp, 'tool');
  await newProject(tool, { name: 'tool', private: true }, [packed.tarball]);
  const bin = join(tool, 'node_modules', 'sluice', 'src', 'cli', 'bin.js');
  await ok(process.execPath, [bin, 'new', 'orders', '--sluice', `file:${packed.tarball}`], tmp);
  app = join(tmp, 'orders');
  install = await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
}, SETUP_MS);

afterAll(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe('a folder made by sluice new, installed from the tarball', { timeout: 120_000 }, () => {
  it('installs without a warning the user must act on', () => {
    expect(warningsToActOn(install)).toEqual([]);
  });

  it('typechecks with its own strict tsconfig', async () => {
    await ok('npm', ['run', 'typecheck'], app);
  });

  it('passes its own test (the app under faults, and chaos)', async () => {
    const r = await ok('npm', ['test'], app);
    expect(r.stdout).toMatch(/Tests\s+2 passed \(2\)/);
  });

  it('runs with npm start, writing its window files', async () => {
    const r = await ok('npm', ['start', '--', '--windows', '2', '--window-ms', '20'], app);
    expect(r.stderr).toMatch(/stopped after window 2, committed 2/);
    expect((await readdir(join(app, 'out'))).filter((f) => f.endsWith('.jsonl')).sort()).toEqual([
      'window-000000001.jsonl',
      'window-000000002.jsonl',
    ]);
  });
});
