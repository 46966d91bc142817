import { expect, test } from 'vitest';
import {
  type Alert,
  Average,
  type AverageRecord,
  Collected,
  CollectSink,
  DeviceReadings,
  DIMENSION_FIELDS,
  type DimensionFields,
  GenerateDimensions,
  keyString,
  PrereqAverage,
  type Reading,
  ReadingGenerator,
  SumPartials,
} from '../../../actors/index.ts';
import { application, launch, MemorySnapshotStore } from '../../../src/index.ts';
import { runWithFaults } from '../../../src/testkit/index.ts';

const ORIGIN = Date.UTC(2026, 11, 2, 10, 59, 59); // windows of 500 ms: the third starts at 11:00
const APP_WINDOW = 3;

/** The case-study DAG into collecting sinks. */
function machineData(o: {
  partitions: number;
  unifierLimit: number;
  taps: { averages: Collected<AverageRecord>; alerts: Collected<Alert> };
  perWindow?: number;
}) {
  return application('machine-data-test', (dag) => {
    const readings = dag.add(
      'readings',
      DeviceReadings,
      { readingsPerWindow: (o.perWindow ?? 40) / o.partitions, batch: 16, seed: 5, timeOriginMs: ORIGIN },
      { partitions: o.partitions },
    );
    const dims = dag.add('dims', GenerateDimensions, { batchReadings: 32 });
    const prereq = dag.add('prereq', PrereqAverage, undefined, {
      applicationWindowCount: APP_WINDOW,
      unifier: SumPartials,
      unifierLimit: o.unifierLimit,
    });
    const avg = dag.add('avg', Average, { alertThreshold: 70 }, { applicationWindowCount: APP_WINDOW });
    const averages = dag.add('averages', CollectSink<AverageRecord>, { into: o.taps.averages });
    const alerts = dag.add('alerts', CollectSink<Alert>, { into: o.taps.alerts });
    // GenerateDimensions and PrereqAverage inherit the source's partitions (the case study's layout).
    dag.stream('generate_dimension', readings.out, dims.in).locality('container').parallel();
    dag.stream('prereq_calculation', dims.out, prereq.in).locality('thread');
    dag.stream('inter_avg', prereq.out, avg.in);
    dag.stream('avg_output', avg.out, averages.in);
    dag.stream('avg_alert_mail', avg.alerts, alerts.in);
  });
}

/** What the averages of an application window must be, computed the slow, obvious way: string keys. */
function expectedAverages(readings: Reading[], window: number): AverageRecord[] {
  const sums = new Map<string, { fields: DimensionFields; day: number; minute: number; s: number[] }>();
  for (const r of readings) {
    for (let mask = 0; mask < 64; mask++) {
      const fields: DimensionFields = {};
      DIMENSION_FIELDS.forEach((f, i) => {
        if (mask & (1 << i)) fields[f] = r[f];
      });
      const key = keyString(fields, r.day, r.minute);
      const e = sums.get(key) ?? { fields, day: r.day, minute: r.minute, s: [0, 0, 0, 0] };
      e.s[0]! += Math.min(r.cpu, 90);
      e.s[1]! += Math.min(r.ram, 90);
      e.s[2]! += Math.min(r.hdd, 90);
      e.s[3]!++;
      sums.set(key, e);
    }
  }
  const round = (v: number) => Math.round(v * 100) / 100;
  return [...sums].map(([key, { fields, day, minute, s }]) => ({
    key,
    fields,
    day,
    minute,
    window,
    cpu: round(s[0]! / s[3]!),
    ram: round(s[1]! / s[3]!),
    hdd: round(s[2]! / s[3]!),
    count: s[3]!,
  }));
}

/** The readings window w holds: partition p of P emits reading numbers n·P + p, `perWindow / P` a window. */
function readingsOf(w: number, partitions: number, perWindow = 40): Reading[] {
  const g = new ReadingGenerator({ seed: 5 });
  const t = new Date(ORIGIN + (w - 1) * 500);
  const [minute, day] = [t.getUTCHours() * 60 + t.getUTCMinutes(), Math.floor(t.getTime() / 86_400_000)];
  const each = perWindow / partitions;
  const out: Reading[] = [];
  for (let p = 0; p < partitions; p++) {
    for (let n = (w - 1) * each; n < w * each; n++) out.push(g.at(n * partitions + p, minute, day));
  }
  return out;
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

test('averages per key and application window equal a string-keyed computation; alerts above 70', async () => {
  const taps = {
    readings: new Collected<Reading>(),
    averages: new Collected<AverageRecord>(),
    alerts: new Collected<Alert>(),
  };
  const run = await launch(machineData({ partitions: 4, unifierLimit: 2, taps }), {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows: 2 * APP_WINDOW,
  });
  await run.done;
  for (const closing of [APP_WINDOW, 2 * APP_WINDOW]) {
    const readings = [1, 2, 3].flatMap((k) => readingsOf(closing - APP_WINDOW + k, 4));
    const expected = expectedAverages(readings, closing).sort(byKey);
    expect(taps.averages.windows.get(closing)!.slice().sort(byKey)).toEqual(expected);
    const alerts = expected.flatMap((e) =>
      (['cpu', 'ram', 'hdd'] as const)
        .filter((r) => e[r] > 70)
        .map((resource) => ({
          key: e.key,
          fields: e.fields,
          day: e.day,
          minute: e.minute,
          window: closing,
          resource,
          usage: e[resource],
          threshold: 70,
        })),
    );
    expect(alerts.length).toBeGreaterThan(0);
    expect((taps.alerts.windows.get(closing) ?? []).slice().sort(byKey)).toEqual(alerts.sort(byKey));
  }
  // Only application windows emit; the first one crosses a minute: both minutes' keys are there.
  expect([...taps.averages.windows.keys()]).toEqual([APP_WINDOW, 2 * APP_WINDOW]);
  expect(new Set(taps.averages.windows.get(APP_WINDOW)!.map((a) => a.minute)).size).toBe(2);
});

test('one partition and four behind cascading SumPartials unifiers give the same averages', async () => {
  const results: { averages: AverageRecord[] }[] = [];
  for (const [partitions, unifierLimit] of [
    [1, 16],
    [4, 2],
  ] as const) {
    const taps = {
      readings: new Collected<Reading>(),
      averages: new Collected<AverageRecord>(),
      alerts: new Collected<Alert>(),
    };
    const app = machineData({ partitions, unifierLimit, taps });
    expect(app.dag()).toBeDefined();
    const run = await launch(app, {
      store: new MemorySnapshotStore(),
      virtualTime: true,
      windows: APP_WINDOW,
    });
    await run.done;
    results.push({ averages: taps.averages.all().sort(byKey) });
  }
  // Partition p of P emits readings p, p+P, …: four partitions of 10 a window emit the same 40 readings
  // per window as one of 40 (in another order), so the averages agree key for key.
  expect(results[0]!.averages.length).toBeGreaterThan(1000);
  expect(results[1]!.averages.length).toBe(results[0]!.averages.length);
  expect(
    results[1]!.averages.every((a, i) => JSON.stringify(a) === JSON.stringify(results[0]!.averages[i])),
  ).toBe(true);
});

test('under an operator failure and a relaunch the averages and alerts are those of a fault-free run', async () => {
  const taps = () => ({
    readings: new Collected<Reading>(),
    averages: new Collected<AverageRecord>(),
    alerts: new Collected<Alert>(),
  });
  const app = machineData({ partitions: 2, unifierLimit: 16, taps: taps() });
  const clean = await runWithFaults(app, { windows: 3 * APP_WINDOW, checkpointWindowCount: 2 });
  const faulty = await runWithFaults(app, {
    windows: 3 * APP_WINDOW,
    checkpointWindowCount: 2,
    faults: [
      { kind: 'throw', actor: 'prereq#1', window: 2, call: 'tuple', tuple: 1 },
      { kind: 'throw', actor: 'inter_avg:unifier', window: 3, call: 'endWindow' },
      { kind: 'relaunch', window: 5 },
      { kind: 'throw', actor: 'avg', window: 6, call: 'endWindow' },
    ],
  });
  expect(faulty.faultsFired).toHaveLength(4);
  expect(faulty.replayMismatches).toEqual([]);
  expect(faulty.outputs).toEqual(clean.outputs);
  expect(clean.outputs.get('averages')?.get(APP_WINDOW)?.length).toBeGreaterThan(1000);
});

test('the generator is seeded and replayable: what a window could not emit stays owed, across a relaunch', async () => {
  const into = new Collected<Reading>();
  const app = application('owed', (dag) => {
    const readings = dag.add('readings', DeviceReadings, {
      readingsPerWindow: 10,
      batch: 3,
      seed: 9,
      timeOriginMs: ORIGIN,
    });
    const sink = dag.add('sink', CollectSink<Reading>, { into });
    dag.stream('s', readings.out, sink.in);
  });
  const store = new MemorySnapshotStore();
  // Two emitTuples() calls per window: 6 of the 10 owed go out, the rest is carried.
  await (await launch(app, { store, virtualTime: { callsPerWindow: 2 }, windows: 3 })).done;
  expect([1, 2, 3].map((w) => into.windows.get(w)!.length)).toEqual([6, 6, 6]);
  // Relaunched on the same store with room to pay off everything: 12 carried + 10 new in window 4.
  await (await launch(app, { store, virtualTime: true, windows: 4 })).done;
  expect(into.windows.get(4)!.length).toBe(22);
  const g = new ReadingGenerator({ seed: 9 });
  const all = into.all();
  const minute = (w: number) => new Date(ORIGIN + (w - 1) * 500);
  expect(all).toEqual(
    all.map((_, i) => {
      const t = minute(i < 18 ? Math.floor(i / 6) + 1 : 4);
      return g.at(i, t.getUTCHours() * 60 + t.getUTCMinutes(), Math.floor(t.getTime() / 86_400_000));
    }),
  );
  for (const r of all) {
    expect(r.device).toBeGreaterThanOrEqual(1);
    expect(r.device).toBeLessThanOrEqual(50);
    expect(r.cpu).toBeLessThanOrEqual(100);
  }
  expect(new ReadingGenerator({ seed: 10 }).at(0, 0, 0)).not.toEqual(g.at(0, 0, 0));
});
