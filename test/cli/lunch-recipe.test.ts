import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { repoRoot, type TempDir, tempDir } from './cli-process.ts';

/**
 * The lunch test of examples/running-sums/README.md, run as written: its shell block, `kill -9 $!`
 * included, with only its paths moved into a temporary directory. A recipe whose `$!` is not sluice
 * (`npx sluice … &` is npm) leaves the killed run's sluice alive on the store, and the relaunch fails.
 */
let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

function recipe(): string {
  const readme = readFileSync(join(repoRoot, 'examples', 'running-sums', 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((b) => b.includes('kill -9'));
  if (block === undefined) throw new Error('examples/running-sums/README.md has no shell block with kill -9');
  return block;
}

/** Replaces every `from` in `script` (which must have one: the README is what is tested). */
function moved(script: string, from: string, to: string): string {
  if (!script.includes(from)) throw new Error(`the lunch recipe no longer mentions ${from}`);
  return script.replaceAll(from, to);
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('bash', ['-c', script], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', SUMS_FAIL_ONCE: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

function windowFiles(dir: string): Map<string, string> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  return new Map(files.sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

test('the README’s lunch recipe, kill -9 included, ends with the window files of a run never killed', async () => {
  const dir = (name: string) => join(tmp.dir, name);
  const reference = await bash(
    // The reference in one thread; the recipe runs as written (on the default: containers, on 2+ cores).
    'node src/cli/bin.js run examples/running-sums/app.ts --containers 0 --window-ms 50 --windows 60 --store "$STORE"',
    { SUMS_OUT: dir('out-ref'), STORE: dir('store-ref') },
  );
  expect(reference.code, reference.stderr).toBe(0);

  let script = moved(recipe(), '/tmp/sums-store', dir('store'));
  script = moved(script, '/tmp/sums-failed', dir('failed'));
  script = moved(script, 'out/running-sums', dir('out'));
  const r = await bash(script, { SUMS_OUT: dir('out') });
  expect(r.stderr).not.toContain('SLUICE_STORE_LOCKED');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr, 'bash reports the first run killed').toMatch(/Killed/);
  expect(r.stderr, 'the relaunch restored a checkpoint').toMatch(
    /restored from the checkpoint of window \d+/,
  );
  expect(existsSync(dir('failed')), 'the operator failure of the relaunch was injected').toBe(true);
  const expected = windowFiles(dir('out-ref'));
  expect(expected.size).toBe(60);
  expect(windowFiles(dir('out'))).toEqual(expected);
}, 120_000);
