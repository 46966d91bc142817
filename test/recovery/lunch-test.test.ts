import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { readWindowFiles, removeDir, tempDir } from './fixtures.ts';

/**
 * The seeds' "lunch test", as a user would run it: `sluice run --window-ms 50 --windows 60`, killed with
 * SIGKILL three times at random moments and started again on the same store, with an operator that
 * throws once: every window file is byte-for-byte what an undisturbed run writes.
 */
const root = join(import.meta.dirname, '..', '..');
const app = join(root, 'examples', 'running-sums', 'app.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function sluiceRun(store: string, out: string, marker?: string): ChildProcess {
  const args = ['src/cli/bin.js', 'run', app, '--window-ms', '50', '--windows', '60', '--store', store];
  return spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, SUMS_OUT: out, SUMS_FAIL_ONCE: marker ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** A seeded generator, so a failing schedule of kills can be read from the log and tried again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

test('killed with SIGKILL three times and relaunched, with one operator failure, the output is identical', async () => {
  const work = tempDir('lunch');
  dirs.push(work);
  const reference = await exited(sluiceRun(join(work, 'store-ref'), join(work, 'out-ref')));
  expect(reference.code, reference.stderr).toBe(0);

  const seed = Number(process.env.SLUICE_LUNCH_SEED ?? Date.now() % 100_000);
  const next = random(seed);
  const store = join(work, 'store');
  const out = join(work, 'out');
  const marker = join(work, 'thrown');
  const kills: number[] = [];
  for (let i = 0; i < 3; i++) {
    const child = sluiceRun(store, out, marker);
    const done = exited(child);
    const delay = 400 + Math.floor(next() * 1600); // startup takes ~0.4 s; a run of 60 windows ~3 s
    kills.push(delay);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const r = await done;
    clearTimeout(timer);
    if (r.signal !== 'SIGKILL') expect(r.code, r.stderr).toBe(0); // it may finish before the kill
  }
  const last = await exited(sluiceRun(store, out, marker));
  const context = `seed ${seed}, kills after ${kills.join(', ')} ms\n${last.stderr}`;
  expect(last.code, context).toBe(0);
  expect(existsSync(marker), 'the operator failure was injected').toBe(true);

  const expected = readWindowFiles(join(work, 'out-ref'));
  expect(expected.size).toBe(60);
  expect(readWindowFiles(out), context).toEqual(expected);
}, 60_000);
