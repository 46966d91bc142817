import { expect, test } from 'vitest';
import {
  DEFAULT_RANGES,
  DIMENSION_FIELDS,
  type DimensionBatch,
  DimensionSpace,
  dimensionTuples,
  GenerateDimensions,
  keyString,
  type Reading,
  type ReadingError,
} from '../../../actors/index.ts';
import { driven } from './harness.ts';

const reading = (over: Partial<Reading> = {}): Reading => ({
  customer: 3,
  product: 5,
  os: 11,
  software1: 12,
  software2: 13,
  software3: 4,
  device: 42,
  cpu: 95,
  ram: 40,
  hdd: 70,
  minute: 607,
  day: 20789,
  ...over,
});

test('the case study key space: 78,336 dense keys, each decoding to its combination and values', () => {
  const space = new DimensionSpace();
  expect(space.keyCount).toBe(6 * 4 * 4 * 51 * 4 * 4);
  const r = reading();
  const keys = new Set<number>();
  for (let mask = 0; mask < 64; mask++) {
    const key = space.encode(mask, r);
    expect(key).toBeGreaterThanOrEqual(0);
    expect(key).toBeLessThan(space.keyCount);
    expect(space.maskOf(key)).toBe(mask);
    const fields = space.decode(key);
    DIMENSION_FIELDS.forEach((f, i) => {
      expect(fields[f]).toBe(mask & (1 << i) ? r[f] : undefined);
    });
    keys.add(key);
  }
  expect(keys.size).toBe(64);
  expect(keyString(space.decode(space.encode(0b101, r)), 20789, 607)).toBe(
    'customer=3,os=11|day=20789|minute=607',
  );
  expect(keyString({}, 1, 2)).toBe('*|day=1|minute=2');
});

test('GenerateDimensions emits 64 dimension tuples per reading as columns, values capped at 90', () => {
  const op = driven(new GenerateDimensions());
  op.window(1, () => {
    op.feed('in', reading());
    op.feed('in', reading({ device: 7, cpu: 10 }));
  });
  const [batch] = op.emitted<DimensionBatch>('out');
  expect(op.emitted('out')).toHaveLength(1); // flushed at the end of the window, one batch
  expect(batch!.readings).toBe(2);
  expect(batch!.dimensions).toBe(64);
  const tuples = [...dimensionTuples(batch!)];
  expect(tuples).toHaveLength(128);
  const space = new DimensionSpace();
  const first = tuples.slice(0, 64);
  expect(first.map((t) => space.maskOf(t.key)).sort((a, b) => a - b)).toEqual([...Array(64).keys()]);
  for (const t of first) {
    expect(t).toMatchObject({ cpu: 90, ram: 40, hdd: 70, time: 20789 * 1440 + 607 });
    expect(t.key).toBe(space.encode(space.maskOf(t.key), reading()));
  }
  expect(tuples[64 + 0b1000]!.key).toBe(space.encode(0b1000, reading({ device: 7 })));
  expect(tuples[64]!.cpu).toBe(10);
});

test('GenerateDimensions takes configured combinations and cap, and batches by batchReadings', () => {
  const op = driven(
    new GenerateDimensions({
      combinations: [['customer'], ['device', 'os'], []],
      valueCap: 50,
      batchReadings: 2,
    }),
  );
  op.window(1, () => {
    for (let i = 0; i < 5; i++) op.feed('in', reading({ device: i + 1 }));
  });
  const batches = op.emitted<DimensionBatch>('out');
  expect(batches.map((b) => b.readings)).toEqual([2, 2, 1]);
  const space = new DimensionSpace();
  const tuples = batches.flatMap((b) => [...dimensionTuples(b)]);
  expect(tuples).toHaveLength(15);
  expect(tuples.slice(3, 6).map((t) => space.decode(t.key))).toEqual([
    { customer: 3 },
    { os: 11, device: 2 },
    {},
  ]);
  expect(tuples.every((t) => t.cpu === 50)).toBe(true);
  expect(batches[2]!.parts).toHaveLength(6); // a part-filled batch crosses a mailbox without its unused tail
});

test('bad readings go to the error port and the dead-letter count; the good ones still count', () => {
  const op = driven(new GenerateDimensions());
  op.window(4, () => {
    op.feed('in', reading());
    const { device: _, ...noDevice } = reading();
    op.feed('in', noDevice as Reading);
    op.feed('in', reading({ customer: 9 }));
    op.feed('in', reading({ cpu: Number.NaN }));
    op.feed('in', reading({ minute: 1440 }));
    op.feed('in', null as unknown as Reading);
    op.feed('in', reading({ ram: 100 }));
  });
  const errors = op.emitted<ReadingError>('errors');
  expect(errors.map((e) => e.reason)).toEqual([
    'device is missing',
    `customer 9 is not an integer in [${DEFAULT_RANGES.customer.join(', ')}]`,
    'cpu NaN is not a percentage in [0, 100]',
    'minute 1440 is not in [0, 1439]',
    'not an object',
  ]);
  expect(errors[0]!.window).toBe(4);
  expect(JSON.parse(errors[1]!.reading)).toMatchObject({ customer: 9 });
  expect(op.emitted<DimensionBatch>('out')[0]!.readings).toBe(2);
});
