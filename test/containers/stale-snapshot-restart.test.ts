import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ContainerFailure } from '../../src/container/errors.ts';
import { launch } from '../../src/index.ts';
import { LevelSnapshotStore } from '../../src/storage/level-snapshot-store.ts';
import { readWindowFiles, scratchDirs } from '../recovery/fixtures.ts';
import chainApp from './apps/chain.ts';

/*
 * A partial restart may restore the replaced containers from a snapshot newer than the application has
 * reached in this life: one an earlier life wrote before a restart of everything went back further
 * (it is valid: every run of the app computes the same state at that window). The kept input is then
 * paced at most 4 windows past the application's done window, and no container reports progress by
 * itself: the run must recompute its done window after the restart, or it waits for ever (seen on a
 * loaded cluster with a 5 MiB state: test/cluster/big-snapshot.test.ts).
 */
const CHAIN = new URL('./apps/chain.ts', import.meta.url);
const WINDOWS = 24;
const STALE = 12;
const scratch = scratchDirs('stale-snapshot');

afterEach(() => {
  delete process.env.CHAIN_OUT;
});

async function run(dir: string, windows: number, options: Parameters<typeof launch>[1] = {}) {
  process.env.CHAIN_OUT = join(dir, 'out');
  const r = await launch(chainApp, { store: join(dir, 'store'), windows, virtualTime: true, ...options });
  return r;
}

/** A store whose actors all have window 2, and the sink also 12 (its earlier life got further). */
async function storeWithStaleSink(): Promise<string> {
  const earlier = scratch();
  await (await run(earlier, STALE)).done;
  const dir = scratch();
  await (await run(dir, 2)).done;
  const from = new LevelSnapshotStore(join(earlier, 'store'));
  const to = new LevelSnapshotStore(join(dir, 'store'));
  await Promise.all([from.open(), to.open()]);
  const stale = await from.loadSnapshot('files', STALE);
  expect(stale).toBeDefined();
  await to.saveSnapshot('files', STALE, stale);
  await Promise.all([from.close(), to.close()]);
  return dir;
}

test('a container restored past the done window (a snapshot of an earlier life) does not stall the kept input', async () => {
  // An undisturbed run (the reference output).
  const full = scratch();
  await (await run(full, WINDOWS)).done;
  const dir = await storeWithStaleSink();

  // Relaunched at 2 on 3 containers; the sink's container killed at 3 is replaced alone, restored at 12.
  const restarts: { actors: readonly string[]; window: number }[] = [];
  const resumed = await run(dir, WINDOWS, {
    containers: 3,
    module: CHAIN,
    faults: [{ kind: 'container', container: 2, window: 3 }],
  });
  resumed.on('status', (e) => {
    if (e.type === 'restart') restarts.push({ actors: e.actors, window: e.window });
  });
  await resumed.done;
  expect(restarts[0]).toEqual({ actors: ['files'], window: STALE });
  // The windows it wrote after the restore are the undisturbed run's.
  const expected = readWindowFiles(join(full, 'out'));
  const written = readWindowFiles(join(dir, 'out'));
  for (let w = STALE + 1; w <= WINDOWS; w++) {
    const name = [...expected.keys()].find((f) => Number.parseInt(f, 10) === w)!;
    expect(written.get(name), `window ${w}`).toBe(expected.get(name));
  }
}, 120_000);

test('a drill due on a container whose replacement restored at the last window fires on that replacement', async () => {
  // The run's last window is the stale snapshot's: the replacement reports no progress after its restore
  // (as when a drill at the last window went off on a container a restart was already replacing, which
  // once left `container:1@12` unfired in CI). The drill must not wait for progress that never comes.
  const dir = await storeWithStaleSink();
  const drills: string[] = [];
  const resumed = await run(dir, STALE, {
    containers: 3,
    module: CHAIN,
    faults: [3, 4].map((window) => ({ kind: 'container' as const, container: 2, window })),
  });
  resumed.on('status', (e) => {
    if (e.type === 'failure' && e.error instanceof ContainerFailure && e.error.drill)
      drills.push(e.error.drill);
  });
  await resumed.done;
  expect(drills).toEqual(['container:2@3', 'container:2@4']);
  expect(resumed.stats().restarts).toBe(2);
}, 120_000);
