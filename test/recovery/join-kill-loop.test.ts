import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { readWindowFiles, removeDir, tempDir } from './fixtures.ts';
import { exited, killAndRelaunch, sluiceRun } from './kill-loop.ts';

/**
 * Two sources joined into running balances (test/recovery/apps/bank.ts), 20 ms windows, run with
 * `sluice run`, killed with SIGKILL five times at random moments and relaunched on the same store, with
 * an operator that throws once: every window file is what an undisturbed run writes. Run it with the
 * machine's other core busy too: boundaries on the real clock must not move under load for sources
 * whose bursts fit in a window's calls, and nothing may be lost where they do.
 */
const app = join(import.meta.dirname, 'apps', 'bank.ts');
const WINDOWS = 120;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function run(store: string, out: string, marker = '') {
  return sluiceRun([app, '--windows', String(WINDOWS), '--store', store], {
    BANK_OUT: out,
    BANK_FAIL_ONCE: marker,
  });
}

test('a two-source join killed with SIGKILL five times and relaunched writes what an undisturbed run writes', async () => {
  const work = tempDir('bank');
  dirs.push(work);
  const reference = await exited(run(join(work, 'store-ref'), join(work, 'out-ref')));
  expect(reference.code, reference.stderr).toBe(0);

  const store = join(work, 'store');
  const out = join(work, 'out');
  const marker = join(work, 'thrown');
  const { last, context } = await killAndRelaunch(() => run(store, out, marker), {
    kills: 5,
    minMs: 500,
    spanMs: 1500,
  });
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
