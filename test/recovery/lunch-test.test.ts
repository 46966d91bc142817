import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { readWindowFiles, removeDir, tempDir } from './fixtures.ts';
import { exited, killAndRelaunch, repoRoot, sluiceRun } from './kill-loop.ts';

/**
 * The seeds' "lunch test", as a user would run it: `sluice run --window-ms 50 --windows 60`, killed with
 * SIGKILL three times at random moments and started again on the same store, with an operator that
 * throws once: every window file is byte-for-byte what an undisturbed run writes.
 */
const app = join(repoRoot, 'examples', 'running-sums', 'app.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function run(store: string, out: string, marker?: string) {
  return sluiceRun([app, '--window-ms', '50', '--windows', '60', '--store', store], {
    SUMS_OUT: out,
    SUMS_FAIL_ONCE: marker ?? '',
  });
}

test('killed with SIGKILL three times and relaunched, with one operator failure, the output is identical', async () => {
  const work = tempDir('lunch');
  dirs.push(work);
  const reference = await exited(run(join(work, 'store-ref'), join(work, 'out-ref')));
  expect(reference.code, reference.stderr).toBe(0);

  const store = join(work, 'store');
  const out = join(work, 'out');
  const marker = join(work, 'thrown');
  const { last, context } = await killAndRelaunch(() => run(store, out, marker), {
    kills: 3,
    minMs: 400, // startup takes ~0.4 s; a run of 60 windows ~3 s
    spanMs: 1600,
  });
  expect(last.code, context).toBe(0);
  expect(existsSync(marker), 'the operator failure was injected').toBe(true);

  const expected = readWindowFiles(join(work, 'out-ref'));
  expect(expected.size).toBe(60);
  expect(readWindowFiles(out), context).toEqual(expected);
}, 60_000);
