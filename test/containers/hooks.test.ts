import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { launch } from '../../src/index.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';
import hooksApp from './apps/hooks.ts';

const HOOKS = new URL('./apps/hooks.ts', import.meta.url);
let dir: string | undefined;
afterEach(() => {
  if (dir) removeDir(dir);
  delete process.env.HOOKS_OUT;
});

test('a sink fed from another container hears committed(w) while the run goes on, not all at its end', async () => {
  dir = tempDir('sluice-hooks-');
  process.env.HOOKS_OUT = join(dir, 'hooks.txt');
  const run = await launch(hooksApp, {
    containers: 2,
    module: HOOKS,
    store: join(dir, 'store'),
    windows: 20,
    // The real clock: a window's END and the next BEGIN come in one batch from the other container.
    streamingWindowMs: 100,
  });
  expect(run.plan.actors.map((a) => a.container)).toEqual([0, 1]);
  await run.done;
  const lines = readFileSync(process.env.HOOKS_OUT, 'utf8').trim().split('\n');
  const committed = lines.filter((l) => l.startsWith('committed')).map((l) => l.split(' ').map(Number));
  expect(committed.map(([, w]) => w)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  // A commit comes back from the main thread within a window or two (six, for a loaded machine); before
  // the fix every hook waited for the sink to idle between windows, here for its last window.
  for (const [, w, , after] of committed)
    if (w! <= 14) expect(after, lines.join('; ')).toBeLessThanOrEqual(w! + 6);
});
