import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { commonSnapshotWindows } from '../../src/engine/restore.ts';
import { launch, RestartStrategy } from '../../src/index.ts';
import { LevelSnapshotStore } from '../../src/storage/level-snapshot-store.ts';
import { scratchDirs } from '../recovery/fixtures.ts';
import sumsApp from './apps/sums.ts';

/*
 * A container killed just after its snapshots reached the store: their `checkpointed` notices are lost
 * with it (or ignored: it is being replaced). If the run then fails for good, it must still report the
 * commit the store holds, the one a relaunch goes on from, not the older one it had heard of (probe AE,
 * F5: "committed 0" and "nothing was committed" where the relaunch restored from window 2).
 */
const SUMS = new URL('./apps/sums.ts', import.meta.url);
const scratch = scratchDirs('failed-run-commit');

afterEach(() => {
  delete process.env.SUMS_OUT;
});

test('a run that fails for good during a recovery reports the commit its store holds', async () => {
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  const store = join(dir, 'store');
  const run = await launch(sumsApp, {
    containers: 2,
    module: SUMS,
    store,
    windows: 12,
    virtualTime: true,
    restart: RestartStrategy.restart().withLimit(1, 60_000),
    faults: [
      { kind: 'container', container: 1, window: 6 },
      { kind: 'container', container: 0, window: 8 },
    ],
  });
  let stopped: { committed: number; reason: string } | undefined;
  run.on('status', (e) => {
    if (e.type === 'stopped') stopped = e;
  });
  await expect(run.done).rejects.toThrow(/not restarted: more than 1 restarts/);
  const level = new LevelSnapshotStore(store);
  await level.open();
  const held = Math.max(
    0,
    ...(await commonSnapshotWindows(
      level,
      run.plan.actors.map((a) => a.id),
    )),
  );
  await level.close();
  expect(held).toBeGreaterThanOrEqual(2);
  expect(stopped).toMatchObject({ reason: 'failure', committed: held });
  expect(run.stats().committed).toBe(held);
}, 60_000);
