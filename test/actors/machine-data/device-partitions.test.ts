import { expect, test } from 'vitest';
import {
  Average,
  type AverageRecord,
  Collected,
  CollectSink,
  DeviceReadings,
  type DeviceReadingsProps,
  GenerateDimensions,
  type PartialSum,
  PrereqAverage,
  type Reading,
  ReadingGenerator,
  SumPartials,
} from '../../../actors/index.ts';
import { DimensionSpace } from '../../../actors/machine-data/dimension-space.ts';
import { application, launch, MemorySnapshotStore } from '../../../src/index.ts';
import { driven } from './harness.ts';

const ORIGIN = Date.UTC(2026, 11, 2, 11, 0, 0);

/** What partition `partition` of `partitions` emits in windows 1..windows, per window. */
function emitted(props: DeviceReadingsProps, partition: number, partitions: number, windows: number) {
  const d = driven(new DeviceReadings(props), { windowStartMs: ORIGIN });
  Object.assign(d.ctx, { partition, partitions });
  const perWindow: Reading[][] = [];
  for (let w = 1; w <= windows; w++) {
    const before = d.emitted<Reading>('out').length;
    d.window(w, () => {
      while (d.operator.state.owed > 0) d.operator.emitTuples();
    });
    perWindow.push(d.emitted<Reading>('out').slice(before));
  }
  return perWindow;
}

const byDevice: DeviceReadingsProps = { seed: 3, readingsPerWindow: 50, batch: 8, partitionBy: 'device' };

test("partitionBy 'device': each partition emits only its devices, and together a window's readings are one partition's", () => {
  const one = emitted(byDevice, 0, 1, 3);
  const sequence = emitted({ ...byDevice, partitionBy: 'sequence' }, 0, 1, 3);
  expect(one).toEqual(sequence); // one partition: the same readings either way
  const parts = [0, 1, 2].map((p) => emitted({ ...byDevice, readingsPerWindow: 50 / 3 }, p, 3, 3));
  for (let w = 0; w < 3; w++) {
    for (let p = 0; p < 3; p++) for (const r of parts[p]![w]!) expect((r.device - 1) % 3).toBe(p);
    const union = parts.flatMap((ps) => ps[w]!);
    const key = (r: Reading) => JSON.stringify(r);
    expect(union.map(key).sort()).toEqual(one[w]!.map(key).sort());
  }
});

test("partitionBy 'device': deviceAt is the device of the reading at the same number", () => {
  const g = new ReadingGenerator({ seed: 9 });
  for (let i = 0; i < 2000; i++) expect(g.deviceAt(i)).toBe(g.at(i, 0, 0).device);
});

test("partitionBy 'device': a partition restored from its state emits the same readings again", () => {
  const d = driven(new DeviceReadings({ ...byDevice, batch: 4 }), { windowStartMs: ORIGIN });
  Object.assign(d.ctx, { partition: 1, partitions: 2 });
  d.window(1, () => {
    d.operator.emitTuples();
    d.operator.emitTuples();
  });
  const snapshot = structuredClone(d.operator.state);
  const rest = () => {
    const out: Reading[] = [];
    const r = driven(new DeviceReadings({ ...byDevice, batch: 4 }), { state: structuredClone(snapshot) });
    Object.assign(r.ctx, { partition: 1, partitions: 2, windowStartMs: ORIGIN });
    r.window(2, () => {
      while (r.operator.state.owed > 0) r.operator.emitTuples();
    });
    out.push(...r.emitted<Reading>('out'));
    return out;
  };
  expect(rest()).toEqual(rest());
  expect(rest().every((r) => (r.device - 1) % 2 === 1)).toBe(true);
});

/** The case study, P partitions of the generator and heavy stage, one thread. */
function caseStudy(
  partitions: number,
  partitionBy: 'sequence' | 'device',
  averages: Collected<AverageRecord>,
) {
  return application(`md-device-${partitions}-${partitionBy}`, (dag) => {
    const readings = dag.add(
      'readings',
      DeviceReadings,
      { seed: 5, readingsPerWindow: 60 / partitions, batch: 16, timeOriginMs: ORIGIN, partitionBy },
      { partitions },
    );
    const dims = dag.add('dims', GenerateDimensions, { batchReadings: 32 });
    const prereq = dag.add('prereq', PrereqAverage, undefined, {
      applicationWindowCount: 2,
      unifier: SumPartials,
    });
    const avg = dag.add('avg', Average, {}, { applicationWindowCount: 2 });
    const sink = dag.add('averages', CollectSink<AverageRecord>, { into: averages });
    dag.stream('generate_dimension', readings.out, dims.in).locality('container').parallel();
    dag.stream('prereq_calculation', dims.out, prereq.in).locality('thread');
    dag.stream('inter_avg', prereq.out, avg.in);
    dag.stream('avg_output', avg.out, sink.in);
  });
}

async function averagesOf(partitions: number, partitionBy: 'sequence' | 'device') {
  const averages = new Collected<AverageRecord>();
  const r = await launch(caseStudy(partitions, partitionBy, averages), {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows: 4,
  });
  await r.done;
  return averages.all().sort((a, b) => a.key.localeCompare(b.key) || a.window - b.window);
}

test('the case study with 2 partitions by device gives the averages of one partition', async () => {
  const one = await averagesOf(1, 'sequence');
  expect(one.length).toBeGreaterThan(0);
  expect(await averagesOf(2, 'device')).toEqual(one);
});

/** The partial sums partition p of P emits at the end of one application window (windows 1 and 2). */
function partialsOf(partitionBy: 'sequence' | 'device', p: number, partitions: number): PartialSum[] {
  const readings = emitted(
    { seed: 5, readingsPerWindow: 200 / partitions, batch: 16, partitionBy },
    p,
    partitions,
    2,
  );
  const dims = driven(new GenerateDimensions({ batchReadings: 32 }));
  const prereq = driven(new PrereqAverage({}), { applicationWindowCount: 2 });
  dims.window(1, () => {
    for (const r of readings.flat()) dims.feed('in', r);
  });
  prereq.window(2, () => {
    for (const b of dims.emitted('out')) prereq.feed('in', b);
  });
  return prereq.emitted<PartialSum>('out');
}

test("partitionBy 'device': only the keys without a device are summed by both partitions", () => {
  const space = new DimensionSpace();
  const deviceDigit = (key: number) => Math.floor(key / space.strides[3]!) % space.radixes[3]!;
  const count = (by: 'sequence' | 'device') => {
    const seen = new Map<number, number>();
    for (const p of [0, 1]) for (const s of partialsOf(by, p, 2)) seen.set(s.key, (seen.get(s.key) ?? 0) + 1);
    return seen;
  };
  const byDev = count('device');
  const twice = [...byDev].filter(([, n]) => n === 2).map(([k]) => k);
  expect(twice.length).toBeGreaterThan(0);
  expect(twice.every((k) => deviceDigit(k) === 0)).toBe(true);
  // The same keys either way; by sequence, keys naming a device are summed by both partitions too.
  const bySeq = count('sequence');
  expect([...byDev.keys()].sort()).toEqual([...bySeq.keys()].sort());
  const seqTwice = [...bySeq].filter(([, n]) => n === 2).map(([k]) => k);
  expect(seqTwice.some((k) => deviceDigit(k) !== 0)).toBe(true);
});
