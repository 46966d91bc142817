import { describe, expect, it } from 'vitest';
import { BatchEncoder, decodeBatch, encodeBatch } from '../../src/transport/batch-codec.ts';
import { TupleNotEncodableError } from '../../src/transport/errors.ts';
import { Slab } from '../../src/transport/slab.ts';

const roundTrip = (tuples: unknown[], slab?: Slab) => decodeBatch(encodeBatch(tuples, slab));
const layout = (tuples: unknown[]) => encodeBatch(tuples)[1];
const COLUMNS = 1;
const CBOR = 2;
const V8 = 3;
const [INT32, FLOAT64, JSON_VALUES, TEXT, INT8, INT16] = [1, 2, 3, 4, 5, 6];
/** The type byte of each column of an encoded COLUMNS batch. */
const columnTypes = (tuples: unknown[]) => {
  const bytes = encodeBatch(tuples);
  const names = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const first = tuples[0];
  const fields = typeof first === 'object' && first !== null ? Object.keys(first).length : 1;
  return [...bytes.subarray(12 + names, 12 + names + fields)];
};

describe('encoded batches', () => {
  it('give back records of numbers as columns, every number exact (-0, NaN, fractions, large)', () => {
    const tuples = Array.from({ length: 1500 }, (_, i) => ({
      key: i,
      price: i / 7,
      big: 2 ** 40 + i,
      odd: i === 3 ? -0 : i === 4 ? Number.NaN : -i,
    }));
    expect(layout(tuples)).toBe(COLUMNS);
    const back = roundTrip(tuples) as (typeof tuples)[number][];
    expect(back).toEqual(tuples);
    expect(Object.is(back[3]!.odd, -0)).toBe(true);
    expect(Object.keys(back[0]!)).toEqual(['key', 'price', 'big', 'odd']);
  });

  it('keeps integer columns exact after a later batch of the same shape widens them', () => {
    const ints = [{ a: 1, b: 2 }];
    const fractions = [
      { a: 1, b: 2.5 },
      { a: 2, b: 3 },
    ];
    expect(roundTrip(ints)).toEqual(ints);
    expect(roundTrip(fractions)).toEqual(fractions);
    expect(roundTrip(ints)).toEqual(ints);
  });

  it('give back bare numbers', () => {
    const tuples = [1, 2.5, -0, 2 ** 53, Number.POSITIVE_INFINITY];
    expect(layout(tuples)).toBe(COLUMNS);
    expect(roundTrip(tuples)).toEqual(tuples);
  });

  it('give back records of strings and numbers as columns, every string exact', () => {
    const words = ['', 'word', 'naïve', '日本', '\ud83d\ude00', 'lone \ud800 surrogate', '"quoted"\n'];
    const tuples = Array.from({ length: 700 }, (_, i) => ({
      word: words[i % words.length]!,
      count: i % 3 === 0 ? i + 0.5 : i,
      tag: `t${i}`,
    }));
    expect(layout(tuples)).toBe(COLUMNS);
    expect(roundTrip(tuples, new Slab(8192))).toEqual(tuples);
    const strings = tuples.map((t) => t.word);
    expect(layout(strings)).toBe(COLUMNS);
    expect(roundTrip(strings)).toEqual(strings);
  });

  it('write each integer column as narrow as its values allow, and widen it when a later batch needs it', () => {
    const edges = {
      i8: [127, -128, 0, 5],
      i16: [128, -129, 32767, -32768],
      i32: [32768, -32769, 2 ** 31 - 1, -(2 ** 31)],
      f64: [2 ** 31, 0.5, -0, Number.NaN],
    };
    const tuples = [0, 1, 2, 3].map((i) => ({
      a: edges.i8[i]!,
      b: edges.i16[i]!,
      c: edges.i32[i]!,
      d: edges.f64[i]!,
    }));
    expect(columnTypes(tuples)).toEqual([INT8, INT16, INT32, FLOAT64]);
    const back = roundTrip(tuples) as (typeof tuples)[number][];
    expect(back).toEqual(tuples);
    expect(Object.is(back[2]!.d, -0)).toBe(true);
    // A stream of small values, then one that needs more: that batch and later ones are wider, all exact.
    const encoder = new BatchEncoder();
    const small = Array.from({ length: 300 }, (_, i) => ({ n: i % 100 }));
    const big = [...small, { n: 40_000 }];
    for (const batch of [small, big, small]) expect(decodeBatch(encoder.encode(batch))).toEqual(batch);
    // Widths are kept per shape (in this process): a shape no other test uses starts at one byte.
    expect(columnTypes(Array.from({ length: 5 }, (_, i) => ({ onlyHere: i - 2 })))).toEqual([INT8]);
  });

  it('write a string column as UTF-8 text with lengths, or as JSON when a lone surrogate would not survive UTF-8', () => {
    const words = ['', 'word', 'naïve', '日本', '\ud83d\ude00', 'x'.repeat(5000), '"quoted"\n\u0000'];
    const tuples = Array.from({ length: 700 }, (_, i) => ({ word: words[i % words.length]!, n: i }));
    expect(columnTypes(tuples)).toEqual([TEXT, INT16]);
    expect(roundTrip(tuples, new Slab(4096))).toEqual(tuples);
    // A surrogate pair split between two strings: each string alone is not well-formed, and each comes
    // back as it was (the joined text is, and is cut where it was joined).
    const split = [{ s: 'a\ud83d' }, { s: '\ude00b' }, { s: '' }];
    expect(columnTypes(split)).toEqual([TEXT]);
    expect(roundTrip(split)).toEqual(split);
    const lone = [{ s: 'ok' }, { s: 'lone \ud800 surrogate' }];
    expect(columnTypes(lone)).toEqual([JSON_VALUES]);
    expect(roundTrip(lone)).toEqual(lone);
  });

  it('give back records with a nested plain object as columns (the object as JSON), each exact', () => {
    // The shape of an average record: a string key, a nested object whose keys vary, numbers.
    const names = ['customer', 'os', 'device', '__proto__', '7', 'naïve \ud800'];
    const tuples = Array.from({ length: 900 }, (_, i) => {
      const fields: Record<string, unknown> = {};
      names.forEach((name, j) => {
        if (i & (1 << j))
          Object.defineProperty(fields, name, {
            value: j === 5 ? 'x' : i / 3,
            enumerable: true,
            writable: true,
            configurable: true,
          });
      });
      if (i % 5 === 0) fields.deep = { ok: true, none: null, more: { n: 2 ** 60 } };
      return { key: `k${i}`, fields, cpu: i * 0.25, count: i };
    });
    expect(layout(tuples)).toBe(COLUMNS);
    const back = roundTrip(tuples, new Slab(4096)) as (typeof tuples)[number][];
    expect(back).toEqual(tuples);
    for (let i = 0; i < tuples.length; i++) {
      expect(Object.keys(back[i]!.fields)).toEqual(Object.keys(tuples[i]!.fields));
      expect(Object.getPrototypeOf(back[i]!.fields)).toBe(Object.prototype);
    }
  });

  it('write a column of objects of numbers as key ids and values, each object enumerating as it did', () => {
    const FLAT_NUMBERS = 7;
    const names = ['customer', 'os', '10', '7', 'device', 'naïve \ud83d\ude00'];
    const tuples = Array.from({ length: 1000 }, (_, i) => {
      const fields: Record<string, number> = {};
      // Insertion orders differ from tuple to tuple; integer-like keys enumerate first whatever the order.
      const order = i % 2 === 0 ? names : [...names].reverse();
      order.forEach((name, j) => {
        if ((i >> j) & 1) fields[name] = j === 4 ? i / 7 : i * 1000 + j;
      });
      return { key: `k${i}`, fields };
    });
    expect(columnTypes(tuples)).toEqual([TEXT, FLAT_NUMBERS]);
    const back = roundTrip(tuples, new Slab(4096)) as (typeof tuples)[number][];
    expect(back).toEqual(tuples);
    for (let i = 0; i < tuples.length; i++) {
      expect(Object.keys(back[i]!.fields)).toEqual(Object.keys(tuples[i]!.fields));
    }
    // A __proto__ key, a non-number value, or more than 255 keys: the column is JSON, still exact.
    const proto = JSON.parse('[{"k":1,"o":{"__proto__":2}},{"k":2,"o":{"a":1}}]') as unknown[];
    const mixed = [
      { k: 1, o: { a: 1 } },
      { k: 2, o: { a: 'x' } },
    ];
    const wide = [{ k: 1, o: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i])) }];
    for (const batch of [proto, mixed, wide]) {
      expect(columnTypes(batch)).toEqual([INT8, JSON_VALUES]);
      expect(roundTrip(batch)).toEqual(batch);
    }
    expect(Object.keys((roundTrip(proto)[0] as { o: object }).o)).toEqual(['__proto__']);
  });

  it('keep a nested object that JSON would change out of the columns (CBOR gives it back)', () => {
    const changed: unknown[] = [
      { n: Number.NaN },
      { n: Number.POSITIVE_INFINITY },
      { gone: undefined },
      { list: [1, 2] },
      { at: new Date(5) },
      { a: { b: { c: { d: { e: 1 } } } } },
    ];
    for (const inner of changed) {
      const tuples = [
        { id: 1, inner: { ok: 1 } },
        { id: 2, inner },
      ];
      expect(layout(tuples)).toBe(CBOR);
      expect(roundTrip(tuples)).toEqual(tuples);
    }
    // -0 too, which CBOR would write as 0: such a batch goes through V8's serializer, and comes back -0.
    const negativeZero = [
      { id: 1, inner: { ok: 1 } },
      { id: 2, inner: { n: -0 } },
    ];
    expect(layout(negativeZero)).toBe(V8);
    expect(Object.is((roundTrip(negativeZero)[1] as (typeof negativeZero)[1]).inner.n, -0)).toBe(true);
  });

  it('keep the holes of a sparse array (V8 serializer: CBOR would give each back as undefined)', () => {
    const sparse: number[] = [1, 2, 3];
    delete sparse[1];
    for (const tuples of [[{ id: 1, list: sparse }], [sparse, [4, 5]]]) {
      expect(layout(tuples)).toBe(V8);
      const back = roundTrip(tuples);
      const list = (Array.isArray(back[0]) ? back[0] : (back[0] as { list: number[] }).list) as number[];
      expect(list).toHaveLength(3);
      expect(1 in list).toBe(false);
      expect(list[2]).toBe(3);
    }
    // A dense array with an undefined element stays on CBOR and keeps it.
    expect(layout([{ list: [1, undefined, 3] }])).toBe(CBOR);
    expect(roundTrip([{ list: [1, undefined, 3] }])).toEqual([{ list: [1, undefined, 3] }]);
  });

  it('fall back to CBOR when a field changes kind within a batch', () => {
    const tuples = [
      { id: 'a', n: 1 },
      { id: 2, n: 1 },
    ];
    expect(layout(tuples)).toBe(CBOR);
    expect(roundTrip(tuples)).toEqual(tuples);
  });

  it('fall back to CBOR for anything else that is plain data', () => {
    const tuples: unknown[] = [
      { word: 'a', count: 1, ok: true },
      { word: 'b', count: 2, extra: null },
      [1, 'x', null],
      new Map([[1, { at: new Date(5) }]]),
      { bytes: new Uint8Array([1, 2]), big: 12n, nothing: undefined },
      'text',
    ];
    expect(layout(tuples)).toBe(CBOR);
    expect(roundTrip(tuples)).toEqual(tuples);
  });

  it('never drop a key that only a later tuple of the batch has', () => {
    const tuples = [
      { a: 1, b: 2 },
      { a: 1, b: 2, c: 3 },
    ];
    expect(roundTrip(tuples)).toEqual(tuples);
  });

  it('refuse a class instance, a function, a symbol or a cycle, with the path to it', () => {
    class Point {
      x = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cases: [unknown, string, string][] = [
      [{ at: new Point() }, '.at', 'an instance of Point'],
      [{ f: () => 1 }, '.f', 'a function'],
      [{ list: [1, Symbol('s')] }, '.list[1]', 'a symbol'],
      [cyclic, '.self', 'a cycle'],
    ];
    for (const [tuple, path, found] of cases) {
      const e = (() => {
        try {
          encodeBatch([{ ok: 1 }, tuple]);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(TupleNotEncodableError);
      expect((e as TupleNotEncodableError).code).toBe('SLUICE_TUPLE_NOT_ENCODABLE');
      expect((e as TupleNotEncodableError).path).toBe(path);
      expect((e as TupleNotEncodableError).message).toContain(found);
    }
  });

  it('decode into fresh tuples: mutating one does not change what a later decode gives', () => {
    const bytes = encodeBatch([{ list: [1, 2], b: new Uint8Array([7]) }]);
    const first = decodeBatch(bytes) as { list: number[]; b: Uint8Array }[];
    first[0]!.list.push(3);
    first[0]!.b[0] = 0;
    expect(decodeBatch(bytes)).toEqual([{ list: [1, 2], b: new Uint8Array([7]) }]);
  });

  it('share a slab between batches without one overwriting another', () => {
    const slab = new Slab(4096);
    const batches = Array.from({ length: 40 }, (_, b) =>
      Array.from({ length: 37 }, (_, i) => ({ b, i, f: b + i / 2 })),
    );
    const encoded = batches.map((t) => encodeBatch(t, slab));
    expect(encoded.map((bytes) => decodeBatch(bytes))).toEqual(batches);
  });

  it('reuse a released chunk of the slab only when all of its batches are released', () => {
    const slab = new Slab(1024, 1024);
    const a = slab.take(400);
    const b = slab.take(400);
    const c = slab.take(400); // a new chunk
    expect(c.buffer).not.toBe(a.buffer);
    slab.release(a);
    slab.take(700); // a third chunk: a's is still in use by b
    const d = slab.take(700);
    expect(d.buffer).not.toBe(b.buffer);
    slab.release(b);
    expect(slab.take(700).buffer).toBe(a.buffer);
  });

  it('grow the chunks of a slab with its batches, so that a chunk holds several of them', () => {
    const slab = new Slab(1024);
    const a = slab.take(100);
    expect(a.buffer.byteLength).toBe(1024);
    const big = slab.take(1000); // more than an eighth of a chunk: chunks of 8 KB from now on
    expect(big.buffer.byteLength).toBe(8192);
    const next = Array.from({ length: 7 }, () => slab.take(1000));
    expect(next.every((b) => b.buffer === big.buffer)).toBe(true);
    const capped = new Slab(1024, 4096);
    expect(capped.take(1000).buffer.byteLength).toBe(4096);
    expect(capped.take(5000).buffer.byteLength).toBe(5000); // larger than any chunk: one of its own
  });

  it('write a flat-numbers column as narrow as its values allow, and give every value back', () => {
    const columns = (values: number[]) => values.map((v, i) => ({ key: `k${i}`, fields: { a: v, b: i } }));
    for (const values of [
      [1, -128, 127],
      [300, -32768, 5],
      [70000, -1, 2 ** 31 - 1],
      [-0, 1, 2],
      [0.5, 1, 2],
      [Number.NaN, 1, Number.POSITIVE_INFINITY],
      [2 ** 31, 1, -(2 ** 31) - 1],
    ]) {
      // -0 sends the batch to cbor-x (JSON would lose it), which must keep it too.
      const tuples = columns(values);
      const back = decodeBatch(encodeBatch(tuples)) as typeof tuples;
      expect(back).toEqual(tuples);
      expect(back.map((t) => Object.is(t.fields.a, -0))).toEqual(values.map((v) => Object.is(v, -0)));
    }
    const small = encodeBatch(columns(Array.from({ length: 1000 }, (_, i) => i % 100)));
    const wide = encodeBatch(columns(Array.from({ length: 1000 }, (_, i) => i + 0.5)));
    // Two values an object: int16 (b reaches 999) instead of float64, 6 bytes less each.
    expect(wide.length - small.length).toBe(1000 * 2 * 6);
  });

  it('give back a -0 anywhere in a batch that goes to cbor-x', () => {
    const tuples = [
      { list: [1, -0], byKey: new Map([['a', -0]]), big: 2 ** 40 },
      { list: [], byKey: new Map() },
    ];
    const back = decodeBatch(encodeBatch(tuples)) as typeof tuples;
    expect(back).toEqual(tuples);
    expect(Object.is(back[0]!.list[1], -0)).toBe(true);
    expect(Object.is(back[0]!.byKey.get('a'), -0)).toBe(true);
  });

  it('give back each tuple with its keys in its own order, whatever order the first tuple had', () => {
    const tuples = [
      { a: 1, b: 2 },
      { b: 3, a: 4 },
      { a: 5, b: 6 },
    ];
    const back = decodeBatch(encodeBatch(tuples)) as typeof tuples;
    expect(back).toEqual(tuples);
    expect(back.map((t) => Object.keys(t))).toEqual(tuples.map((t) => Object.keys(t)));
  });

  it('keep apart shapes whose keys would join alike: [""] and bare values, ["a\\u0000b"] and ["a", "b"]', () => {
    const batches: unknown[][] = [
      [1, 2],
      [{ '': 3 }],
      [{ 'a\u0000b': 4 }],
      [{ a: 5, b: 6 }],
      ['x'],
      [{ '': 'y' }],
    ];
    for (const b of batches) expect(decodeBatch(encodeBatch(b))).toEqual(b);
  });

  it('give back what cbor-x would alter: an own __proto__ key, a lone surrogate', () => {
    const own = Object.fromEntries([
      ['__proto__', { x: 1 }],
      ['m', new Map([['\ud800', '\udc00x']])],
    ]);
    const back = decodeBatch(encodeBatch([own, new Set(['\ud83d'])])) as [
      Record<string, unknown>,
      Set<string>,
    ];
    expect(Object.keys(back[0])).toEqual(['__proto__', 'm']);
    expect(Object.getPrototypeOf(back[0])).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back[0], '__proto__')?.value).toEqual({ x: 1 });
    expect((back[0].m as Map<string, string>).get('\ud800')).toBe('\udc00x');
    expect([...back[1]]).toEqual(['\ud83d']);
  });

  it('keep every batch of a stream exact when its shape changes after the one it tried first', () => {
    class Point {
      x = 1;
      y = 2;
    }
    const enc = new BatchEncoder(new Slab(2048));
    const ints = (k: number) => Array.from({ length: 50 }, (_, i) => ({ x: i + k, y: -i - 1 }));
    const batches: unknown[][] = [
      ints(0),
      ints(1),
      [...ints(2), { x: 1, y: 2, z: 3 }], // a later tuple with a key the shape lacks
      [{ y: 1, x: 2 }, ...ints(3)], // the same keys in another order first
      [...ints(4), { x: 0.5, y: -0 }], // a fraction and -0 where the last batches had int32s
      [
        { word: 'w', x: 1 },
        { word: 'v', x: 2 },
      ],
      [
        { word: 'u', x: 3 },
        { word: 't', x: 4, y: 5 },
      ],
      [1, 2, 3.5],
      [],
      ints(5),
    ];
    const encoded = batches.map((t) => enc.encode(t));
    expect(encoded.map((bytes) => decodeBatch(bytes))).toEqual(batches);
    expect(Object.is((decodeBatch(encoded[4]!)[50] as { y: number }).y, -0)).toBe(true);
    expect(() => enc.encode([...ints(6), new Point()])).toThrow(TupleNotEncodableError);
    expect(() => enc.encode([{ x: 1, y: () => 2 }])).toThrow(TupleNotEncodableError);
    expect(decodeBatch(enc.encode(ints(7)))).toEqual(ints(7));
  });
});
