import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { launch, StorePlanMismatchError } from '../../src/index.ts';
import { PrometheusExport } from '../../src/metrics/prometheus.ts';
import type { MetricsSnapshot } from '../../src/metrics/types.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';
import meteredApp from './apps/metered.ts';
import slowApp from './apps/slow.ts';
import sumsApp from './apps/sums.ts';

/*
 * run.metrics() on containers: real worker threads report their counters with their heartbeats, the main
 * thread aggregates them into the snapshot of a run in one thread.
 */
const METERED = new URL('./apps/metered.ts', import.meta.url);
const WINDOWS = 16;
const dirs: string[] = [];

afterEach(() => {
  for (const v of Object.keys(process.env)) if (v.startsWith('METERED_')) delete process.env[v];
  for (const d of dirs.splice(0)) removeDir(d);
});

function scratch(): string {
  const dir = tempDir('container-metrics');
  dirs.push(dir);
  return dir;
}

test('run.metrics() on 2 containers: per-actor and per-operator counters, operator metrics, checkpoints, latency', async () => {
  const dir = scratch();
  process.env.METERED_OUT = join(dir, 'out');
  const run = await launch(meteredApp, {
    containers: 2,
    module: METERED,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    metrics: { fusedTuples: true },
  });
  await run.done;
  const m = run.metrics();
  expect(m).toMatchObject({ application: 'metered', window: WINDOWS, committed: WINDOWS, restarts: 0 });
  const count = m.operators.find((o) => o.operator === 'count')!;
  // 300 tuples a window through the two partitions, counted on the channels and by the operator itself.
  expect(count.tuplesIn).toBe(300 * WINDOWS);
  expect(count.tuplesOut).toBe(300 * WINDOWS);
  expect(count.custom.seen_tuples).toEqual({ kind: 'counter', value: 300 * WINDOWS });
  expect(count.custom.largest_tuple).toEqual({ kind: 'gauge', value: 300 * WINDOWS - 1 });
  expect(count.checkpoints.count).toBeGreaterThan(0);
  expect(count.checkpoints.totalBytes).toBeGreaterThan(0);
  expect(count.latency.count).toBeGreaterThan(0);
  // Each actor in the container the plan put it in; the sink's latency spans threads.
  const containers = new Map(run.plan.actors.map((a) => [a.id, a.container]));
  expect(new Set(containers.values())).toEqual(new Set([0, 1]));
  for (const a of m.actors) expect(a.container).toBe(containers.get(a.actorId));
  const files = m.actors.find((a) => a.actorId === 'files')!;
  expect(files).toMatchObject({ tuplesIn: 300 * WINDOWS, window: WINDOWS });
  expect(files.latency.count).toBeGreaterThan(0);
  // numbers → count#0, count#1 → the unifier → files: each tuple crosses three edges.
  expect(m.edges.reduce((s, e) => s + e.tuples, 0)).toBe(3 * 300 * WINDOWS);
  for (const e of m.edges) expect(e).toMatchObject({ counted: true, capacity: 16 });
  // The same snapshot in Prometheus's text format.
  const text = await new PrometheusExport().render(m);
  expect(text).toMatch(/sluice_tuples_in_total\{[^}]*actor="files"[^}]*\} 4800\n/);
}, 120_000);

test('a killed container: counters go on rising, the restart and the recovery are counted', async () => {
  const dir = scratch();
  process.env.METERED_OUT = join(dir, 'out');
  const run = await launch(meteredApp, {
    containers: 2,
    module: METERED,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    faults: [{ kind: 'container', container: 1, window: 8 }],
  });
  const seen: MetricsSnapshot[] = [];
  run.on('status', (e) => {
    if (e.type === 'window' || e.type === 'recovered') seen.push(run.metrics());
  });
  await run.done;
  seen.push(run.metrics());
  const m = seen.at(-1)!;
  expect(m.restarts).toBeGreaterThanOrEqual(1);
  expect(m.recoveries.count).toBe(m.restarts);
  expect(m.failures).toBe(m.restarts);
  const replaced = run.plan.actors.filter((a) => a.container === 1).map((a) => a.id);
  for (const id of replaced)
    expect(m.actors.find((a) => a.actorId === id)!.restarts).toBeGreaterThanOrEqual(1);
  // The count's input streams are written in container 0, which lives on: every tuple counted once.
  // (What the killed worker counted since its last heartbeat died with it: its operator metric may miss
  // some, but never goes down.)
  const count = (s: MetricsSnapshot) => s.operators.find((o) => o.operator === 'count')!;
  expect(run.plan.actors.find((a) => a.id === 'numbers')!.container).toBe(0);
  expect(count(m).tuplesIn).toBeGreaterThanOrEqual(300 * WINDOWS);
  expect(count(m).custom.seen_tuples!.value).toBeGreaterThan(0);
  for (let i = 1; i < seen.length; i++) {
    expect(count(seen[i]!).tuplesIn).toBeGreaterThanOrEqual(count(seen[i - 1]!).tuplesIn);
    expect(count(seen[i]!).custom.seen_tuples?.value ?? 0).toBeGreaterThanOrEqual(
      count(seen[i - 1]!).custom.seen_tuples?.value ?? 0,
    );
  }
  const kinds = run.collector!.timeline().map((e) => e.type);
  expect(kinds).toEqual(expect.arrayContaining(['started', 'failure', 'restart', 'recovered', 'stopped']));
}, 120_000);

test('a store of another plan is refused as in one thread: untouched, with no started or stopped event', async () => {
  const dir = scratch();
  process.env.METERED_OUT = join(dir, 'out');
  const store = join(dir, 'store');
  await (await launch(meteredApp, { store, windows: 2, virtualTime: true })).done;
  const { LevelSnapshotStore } = await import('../../src/storage/level-snapshot-store.ts');
  const meta = async () => {
    const s = new LevelSnapshotStore(store);
    await s.open();
    const m = [await s.getMeta('epoch'), await s.getMeta('committed')];
    await s.close();
    return m;
  };
  const before = await meta();
  const run = await launch(sumsApp, {
    containers: 2,
    module: new URL('./apps/sums.ts', import.meta.url),
    store,
    windows: 2,
    virtualTime: true,
  });
  const events: string[] = [];
  run.on('status', (e) => events.push(e.type));
  await expect(run.done).rejects.toBeInstanceOf(StorePlanMismatchError);
  expect(events).toEqual([]);
  expect(await meta()).toEqual(before);
}, 60_000);

test('backpressure across containers: the source blocked behind a slow consumer, the edge between them full', async () => {
  const dir = scratch();
  const run = await launch(slowApp, {
    containers: 2,
    module: new URL('./apps/slow.ts', import.meta.url),
    store: join(dir, 'store'),
  });
  try {
    expect(run.plan.actors.map((a) => `${a.id}@${a.container}`)).toEqual(['numbers@0', 'slow@1']);
    await expect
      .poll(
        () => {
          const m = run.metrics();
          const numbers = m.actors.find((a) => a.actorId === 'numbers')!;
          const edge = m.edges.find((e) => e.stream === 'numbers')!;
          return numbers.blockedMs > 200 && edge.fullRatio > 0.5;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBe(true);
    expect(run.metrics().actors.find((a) => a.actorId === 'slow')!.blockedMs).toBe(0);
  } finally {
    await run.kill();
  }
}, 60_000);
