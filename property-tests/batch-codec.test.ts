import fc from 'fast-check';
import { expect, test } from 'vitest';
import { BatchEncoder, decodeBatch } from '../src/transport/batch-codec.ts';
import { Slab } from '../src/transport/slab.ts';
import { propertySeed } from './cases.ts';

/*
 * A replay buffer keeps batches encoded, and a replay must hand the consumer the very tuples of the first
 * pass: whatever plain data a stream carries, decode(encode(batch)) gives every tuple back as it was,
 * numbers to the bit (-0, NaN, ±Infinity, past int32), strings to the code unit (lone surrogates too),
 * objects with the same keys in the same order. Batches come in runs of one shape, as a stream's do (the
 * encoder learns a shape and its column widths from the batches before), with tuples that stray from it
 * (a key more or less, another order, a value of another kind), and through one slab, its chunks reused
 * as batches are released, so that no batch overwrites another.
 * Replay a failure: SLUICE_PROPERTY_SEED=<seed> npx vitest run property-tests/batch-codec.test.ts
 */
const seed = propertySeed;
const runs = Number(process.env.SLUICE_CODEC_RUNS ?? 1000);

const numberArb = fc.oneof(
  fc.integer({ min: -130, max: 130 }),
  fc.integer({ min: -40_000, max: 40_000 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 0.1),
);
const stringArb = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\ud800', '\udc00', '"', '\n') }),
);
const keyArb = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('0', '7', '__proto__', 'constructor', 'a b'),
);
/** An object built with Object.fromEntries: every key an own data property, `__proto__` included. */
const objectOf = <T>(values: fc.Arbitrary<T>) =>
  fc.array(fc.tuple(keyArb, values), { maxLength: 5 }).map((entries) => Object.fromEntries(entries));
const plainArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    numberArb,
    stringArb,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    objectOf(tie('value')),
    fc.array(fc.tuple(stringArb, tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
  ),
})).value;

/** What a field of a shaped batch holds: one kind in every tuple, as the column layout wants, or any. */
const fieldArb = fc.constantFrom<fc.Arbitrary<unknown>>(
  numberArb,
  fc.integer({ min: 0, max: 100 }),
  stringArb,
  objectOf(fc.integer({ min: -5, max: 300 })), // flat numbers
  objectOf(numberArb),
  objectOf(fc.oneof(stringArb, fc.boolean(), fc.constant(null), fc.integer())), // JSON-exact objects
  plainArb,
);

/** A stream's run of batches: tuples of one shape (some straying from it), or bare values, or anything. */
const streamArb: fc.Arbitrary<unknown[][]> = fc.oneof(
  fc
    .uniqueArray(keyArb, { minLength: 1, maxLength: 6 })
    .chain((keys) => fc.tuple(fc.constant(keys), fc.tuple(...keys.map(() => fieldArb))))
    .chain(([keys, fields]) => {
      const regular = fc
        .tuple(...fields)
        .map((values) => Object.fromEntries(keys.map((k, j) => [k, values[j]])));
      const straying = fc.oneof(
        regular.map((t) => ({ ...t, extra: 1 })),
        regular.map((t) => Object.fromEntries(Object.entries(t).slice(1))),
        regular.map((t) => Object.fromEntries(Object.entries(t).reverse())),
        plainArb,
      );
      const tuple = fc.oneof({ arbitrary: regular, weight: 12 }, { arbitrary: straying, weight: 1 });
      return fc.array(fc.array(tuple, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 6 });
    }),
  fc.array(fc.array(numberArb, { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 6 }),
  fc.array(fc.array(stringArb, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 6 }),
  fc.array(fc.array(plainArb, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 4 }),
);

/** toEqual compares numbers with Object.is; this adds what it leaves out: key order and plain prototypes. */
function expectSameKeys(back: unknown, original: unknown, path = 'tuple'): void {
  if (typeof original !== 'object' || original === null) return;
  if (Array.isArray(original)) {
    original.forEach((v, i) => {
      expectSameKeys((back as unknown[])[i], v, `${path}[${i}]`);
    });
  } else if (original instanceof Map) {
    const values = [...(back as Map<unknown, unknown>).values()];
    [...original.values()].forEach((v, i) => {
      expectSameKeys(values[i], v, `${path}.get()`);
    });
  } else {
    expect(Object.getPrototypeOf(back), path).toBe(Object.prototype);
    expect(Object.keys(back as object), path).toEqual(Object.keys(original));
    for (const k of Object.keys(original)) {
      expectSameKeys(
        (back as Record<string, unknown>)[k],
        (original as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
    }
  }
}

function expectBack(bytes: Uint8Array, batch: unknown[]): void {
  const back = decodeBatch(bytes);
  expect(back).toEqual(batch);
  batch.forEach((t, i) => {
    expectSameKeys(back[i], t);
  });
}

test(`every batch of plain data comes back as it was, through a stream's encoder and slab (seed ${seed})`, () => {
  console.log(`batch-codec seed ${seed}`);
  fc.assert(
    fc.property(streamArb, fc.integer({ min: 256, max: 4096 }), (batches, chunkBytes) => {
      const slab = new Slab(chunkBytes, 4 * chunkBytes);
      const encoder = new BatchEncoder(slab);
      const kept = batches.map((b) => encoder.encode(b));
      batches.forEach((b, i) => {
        expectBack(kept[i]!, b);
      });
      // A commit releases the older half; the next batches reuse their chunks and must not touch the rest.
      const half = Math.floor(kept.length / 2);
      for (const bytes of kept.slice(0, half)) encoder.release(bytes);
      const again = batches.map((b) => encoder.encode(b));
      batches.forEach((b, i) => {
        if (i >= half) expectBack(kept[i]!, b);
        expectBack(again[i]!, b);
      });
    }),
    { seed, numRuns: runs },
  );
});
