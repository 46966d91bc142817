import { expect, test } from 'vitest';
import {
  type DimensionBatch,
  GenerateDimensions,
  type PartialSum,
  PrereqAverage,
  ReadingGenerator,
  SumPartials,
} from '../../../actors/index.ts';
import { decodeState, encodeState } from '../../../src/storage/codec.ts';
import { driven } from './harness.ts';

/** Dimension batches of `n` generated readings (all 64 combinations each). */
function batches(n: number, from = 0): DimensionBatch[] {
  const g = new ReadingGenerator({ seed: 3 });
  const dims = driven(new GenerateDimensions({ batchReadings: 64 }));
  dims.window(1, () => {
    for (let i = from; i < from + n; i++) dims.feed('in', g.at(i, 600, 20_000));
  });
  return dims.emitted<DimensionBatch>('out');
}

const sorted = (ps: PartialSum[]) => ps.slice().sort((a, b) => a.time - b.time || a.key - b.key);

test('PrereqAverage clears its sums at the end of the application window: the next snapshot is small', () => {
  const op = driven(new PrereqAverage());
  op.window(1, () => {
    for (const b of batches(500)) op.feed('in', b);
  });
  const partials = op.emitted<PartialSum>('out');
  expect(partials.length).toBeGreaterThan(5000);
  expect(partials.reduce((n, p) => n + p.count, 0)).toBe(500 * 64);
  expect(op.operator.state.minutes).toEqual([]);
  expect(encodeState(op.operator.state).length).toBeLessThan(100);
});

test('PrereqAverage restored mid-window from its snapshot goes on as if never stopped', () => {
  const [first, second] = [batches(300, 0), batches(300, 300)];
  const whole = driven(new PrereqAverage(), { applicationWindowCount: 2 });
  whole.window(1, () => {
    for (const b of [...first, ...second]) whole.feed('in', b);
  });
  const before = driven(new PrereqAverage());
  before.operator.beginWindow(1);
  for (const b of first) before.feed('in', b);
  // The runtime restores by decoding the snapshot into a fresh instance, then calls setup.
  const after = driven(new PrereqAverage(), {
    state: decodeState(encodeState(before.operator.state)),
  });
  after.ctx.windowId = 1;
  for (const b of second) after.feed('in', b);
  after.operator.endWindow();
  expect(sorted(after.emitted('out'))).toEqual(sorted(whole.emitted('out')));
});

test('SumPartials adds partials per key and minute, whatever the key (it gets no properties)', () => {
  const op = driven(new SumPartials());
  const p = (time: number, key: number, cpu: number, count: number): PartialSum => ({
    time,
    key,
    cpu,
    ram: 1,
    hdd: 2,
    count,
  });
  op.window(3, () => {
    for (const t of [p(10, 5, 10, 1), p(10, 5_000_000, 1, 1), p(11, 5, 3, 2), p(10, 5, 20, 3)])
      op.feed('in', t);
  });
  expect(op.emitted<PartialSum>('out')).toEqual([
    { time: 10, key: 5, cpu: 30, ram: 2, hdd: 4, count: 4 },
    { time: 10, key: 5_000_000, cpu: 1, ram: 1, hdd: 2, count: 1 },
    { time: 11, key: 5, cpu: 3, ram: 1, hdd: 2, count: 2 },
  ]);
  expect(op.operator.state.sums.size).toBe(0);
});
