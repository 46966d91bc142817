import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { readWindowFiles, removeDir, tempDir } from './fixtures.ts';

/**
 * Two sources joined into running balances (test/recovery/apps/bank.ts), 20 ms windows, run with
 * `sluice run`, killed with SIGKILL five times at random moments and relaunched on the same store, with
 * an operator that throws once: every window file is what an undisturbed run writes. Run it with the
 * machine's other core busy too: boundaries on the real clock must not move under load for sources
 * whose bursts fit in a window's calls, and nothing may be lost where they do.
 */
const root = join(import.meta.dirname, '..', '..');
const app = join(import.meta.dirname, 'apps', 'bank.ts');
const WINDOWS = 120;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function sluiceRun(store: string, out: string, marker = ''): ChildProcess {
  const args = ['src/cli/bin.js', 'run', app, '--windows', String(WINDOWS), '--store', store];
  return spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, BANK_OUT: out, BANK_FAIL_ONCE: marker },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

test('a two-source join killed with SIGKILL five times and relaunched writes what an undisturbed run writes', async () => {
  const work = tempDir('bank');
  dirs.push(work);
  const reference = await exited(sluiceRun(join(work, 'store-ref'), join(work, 'out-ref')));
  expect(reference.code, reference.stderr).toBe(0);

  const seed = Number(process.env.SLUICE_LUNCH_SEED ?? Date.now() % 100_000);
  const next = random(seed);
  const store = join(work, 'store');
  const out = join(work, 'out');
  const marker = join(work, 'thrown');
  const kills: number[] = [];
  for (let i = 0; i < 5; i++) {
    const child = sluiceRun(store, out, marker);
    const done = exited(child);
    const delay = 500 + Math.floor(next() * 1500);
    kills.push(delay);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const r = await done;
    clearTimeout(timer);
    if (r.signal !== 'SIGKILL') expect(r.code, r.stderr).toBe(0);
  }
  const last = await exited(sluiceRun(store, out, marker));
  const context = `seed ${seed}, kills after ${kills.join(', ')} ms\n${last.stderr}`;
  expect(last.code, context).toBe(0);
  expect(existsSync(marker), 'the operator failure was injected').toBe(true);
  const expected = readWindowFiles(join(work, 'out-ref'));
  expect(expected.size).toBe(WINDOWS);
  const actual = readWindowFiles(out);
  const differs = [...expected.keys()].find((f) => actual.get(f) !== expected.get(f));
  expect(
    differs,
    `${context}\nfirst differing window file: ${differs}\nexpected:\n${expected.get(differs ?? '')}\nactual:\n${actual.get(differs ?? '')}`,
  ).toBeUndefined();
}, 120_000);
