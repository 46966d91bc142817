import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, expect, test } from 'vitest';
import { FileSink, SequenceSource } from '../../actors/index.ts';
import {
  application,
  LevelSnapshotStore,
  launch,
  type StatusEvent,
  type StorePlanMismatchError,
} from '../../src/index.ts';
import { LEVEL_SUBLEVELS, levelRecordKey } from '../../src/storage/level-snapshot-store.ts';
import { readWindowFiles, removeDir, runningSumsApp, tempDir } from './fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function fresh(prefix: string) {
  const d = tempDir(prefix);
  dirs.push(d);
  return { out: join(d, 'out'), store: join(d, 'store') };
}

async function runToEnd(out: string, store: string, windows: number) {
  const run = await launch(runningSumsApp(out), { store, windows, virtualTime: true });
  const events: StatusEvent[] = [];
  run.on('status', (e) => events.push(e));
  await run.done;
  return events;
}

test('a run killed abruptly and launched again on its store writes the same window files as an undisturbed run', async () => {
  const undisturbed = fresh('undisturbed');
  await runToEnd(undisturbed.out, undisturbed.store, 20);

  const crashed = fresh('crashed');
  for (const killAt of [5, 11]) {
    const run = await launch(runningSumsApp(crashed.out), {
      store: crashed.store,
      windows: 20,
      virtualTime: true,
    });
    run.on('status', (e) => {
      if (e.type === 'window' && e.window === killAt) void run.kill();
    });
    await run.done.catch(() => {});
  }
  const events = await runToEnd(crashed.out, crashed.store, 20);
  const started = events.find((e) => e.type === 'started');
  expect(started?.type === 'started' && started.restoredWindow).toBeGreaterThan(0);
  expect(readWindowFiles(crashed.out)).toEqual(readWindowFiles(undisturbed.out));
  expect(readWindowFiles(crashed.out).size).toBe(20);
});

test('a relaunch whose newest snapshot is corrupt falls back to the previous checkpoint, says so, and loses nothing', async () => {
  const undisturbed = fresh('undisturbed');
  await runToEnd(undisturbed.out, undisturbed.store, 16);

  const damaged = fresh('damaged');
  const first = await launch(runningSumsApp(damaged.out), {
    store: damaged.store,
    windows: 16,
    virtualTime: true,
  });
  first.on('status', (e) => {
    if (e.type === 'commit' && e.window === 9) void first.kill();
  });
  await first.done.catch(() => {});

  // Flip a byte of the newest snapshot of one actor, as a torn write or bad disk would.
  const store = new LevelSnapshotStore(damaged.store);
  await store.open();
  let common: number[] | undefined;
  for (const id of await store.actorIds()) {
    const w = await store.snapshotWindows(id);
    common = common ? common.filter((x) => w.includes(x)) : w;
  }
  await store.close();
  // The newest checkpoint every actor has is the one a relaunch would restore: damage it.
  const newest = Math.max(...(common ?? []));
  expect(common?.length).toBeGreaterThan(1);
  await corruptSnapshot(damaged.store, 'sums#1', newest);

  const events = await runToEnd(damaged.out, damaged.store, 16);
  const warning = events.find((e) => e.type === 'warning');
  expect(warning?.type === 'warning' && warning.message).toMatch(/corrupt|checksum/i);
  const started = events.find((e) => e.type === 'started');
  expect(started?.type === 'started' && started.restoredWindow).toBeLessThan(newest);
  expect(readWindowFiles(damaged.out)).toEqual(readWindowFiles(undisturbed.out));
});

test('a store in use by another run is refused with SLUICE_STORE_LOCKED', async () => {
  const d = fresh('locked');
  const run = await launch(runningSumsApp(d.out), { store: d.store, virtualTime: true });
  await expect(launch(runningSumsApp(d.out), { store: d.store, virtualTime: true })).rejects.toMatchObject({
    code: 'SLUICE_STORE_LOCKED',
  });
  await run.stop();
});

async function corruptSnapshot(dir: string, actorId: string, window: number) {
  const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
  const snapshots = db.sublevel<string, Uint8Array>(LEVEL_SUBLEVELS.snapshots, { valueEncoding: 'view' });
  const key = levelRecordKey(actorId, window);
  const bytes = await snapshots.get(key);
  if (!bytes) throw new Error('no snapshot bytes to corrupt');
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
  await snapshots.put(key, bytes);
  await db.close();
}

test('a store written by another plan is refused with SLUICE_STORE_PLAN_MISMATCH, saying which actors changed and what the store committed', async () => {
  const d = fresh('mismatch');
  await runToEnd(d.out, d.store, 3);
  const other = application('running-sums', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 2 });
    const sink = dag.add('sink', FileSink, { dir: d.out });
    dag.stream('numbers', src.out, sink.in);
  });
  const run = await launch(other, { store: d.store, windows: 6, virtualTime: true });
  const err = await run.done.then(
    () => undefined,
    (e: unknown) => e as StorePlanMismatchError,
  );
  expect(err?.code).toBe('SLUICE_STORE_PLAN_MISMATCH');
  expect(err?.committed).toBe(3);
  expect(err?.message).toMatch(
    /\(of "running-sums": actors removed: sums#0, sums#1, sums#2, sums:unifier\); it committed windows up to 3,/,
  );
});
