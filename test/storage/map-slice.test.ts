import { describe, expect, it } from 'vitest';
import { encodeState } from '../../src/storage/codec.ts';
import { applySlice, checkSlice, encodeSlice, readSlice } from '../../src/storage/map-slice.ts';

const COMPACT = 1;

describe('map slices', () => {
  it('write string → number slices compactly and give back every key and number exactly', () => {
    const keys = ['', 'k1', 'naïve', '日本', '\ud83d\ude00', 'a'.repeat(300), 'k1 '];
    const sets = keys.flatMap((k, i) => [k, i * 3]);
    const slice = encodeSlice(sets, ['gone', '']);
    expect(slice[0]).toBe(COMPACT);
    expect(readSlice(slice)).toEqual([sets, ['gone', '']]);
    const floats = ['a', 0.5, 'b', -0, 'c', Number.NaN, 'd', 2 ** 53, 'e', -7];
    const [back] = readSlice(encodeSlice(floats, []));
    expect(back).toEqual(floats);
    expect(Object.is(back[3], -0)).toBe(true);
    // The narrowest column that holds every value: int8, int16, int32, else float64.
    const kinds = [
      [1, -128],
      [300, -2],
      [1, 70000],
      [1, 0.5],
    ].map(
      (vs) =>
        encodeSlice(
          vs.flatMap((v, i) => [`k${i}`, v]),
          [],
        )[1],
    );
    expect(kinds).toEqual([3, 4, 1, 2]);
    const long = ['x'.repeat(70000), 1, 'y', 2];
    expect(encodeSlice(long, [])[3]).toBe(4);
    expect(readSlice(encodeSlice(long, ['z'.repeat(300)]))).toEqual([long, ['z'.repeat(300)]]);
    expect(readSlice(encodeSlice([], []))).toEqual([[], []]);
  });

  it('fall back to CBOR for other keys and values, and for a key with a lone surrogate', () => {
    const cases: unknown[][] = [
      [1, 2, 'a', 3],
      ['a', 'text', 'b', 1],
      ['a', { n: 1 }],
    ];
    for (const sets of cases) {
      const slice = encodeSlice(sets, []);
      expect(slice[0]).not.toBe(COMPACT);
      expect(readSlice(slice)).toEqual([sets, []]);
    }
    // (The state codec cannot carry a lone surrogate either: the round-trip check refuses such state.)
    expect(encodeSlice(['lone \ud800', 1], [])[0]).not.toBe(COMPACT);
    expect(readSlice(encodeSlice(['a', 1], [7]))).toEqual([['a', 1], [7]]);
  });

  it('apply slices written before the compact form (CBOR [sets, deletes]) as they were', () => {
    const seen: unknown[] = [];
    applySlice(
      encodeState([['k', 1, 'j', 2], ['x']]),
      (k, v) => seen.push(['set', k, v]),
      (k) => seen.push(['delete', k]),
    );
    expect(seen).toEqual([
      ['set', 'k', 1],
      ['set', 'j', 2],
      ['delete', 'x'],
    ]);
  });

  it('read a compact slice that sits at an odd offset of the record it came from', () => {
    const slice = encodeSlice(['a', 1.5, 'bb', 2.5], ['c']);
    const record = new Uint8Array(slice.length + 3);
    record.set(slice, 3);
    expect(readSlice(record.subarray(3))).toEqual([['a', 1.5, 'bb', 2.5], ['c']]);
  });

  it('refuse a damaged compact slice instead of restoring other keys', () => {
    const slice = encodeSlice(['a', 1, 'bb', 2], []);
    expect(() => readSlice(slice.subarray(0, slice.length - 4))).toThrow(TypeError);
    const lengths = slice.slice();
    lengths[16 + new DataView(slice.buffer).getUint32(12, true)] = 9; // the first key's length, u8
    expect(slice[3]).toBe(1);
    expect(() => readSlice(lengths)).toThrow();
  });

  it('refuse, when checked as when applied, a value kind or key-length width the encoder never writes', () => {
    const slice = encodeSlice([], ['gone']); // no values: any kind would fit the length
    expect(() => checkSlice(slice, 1)).not.toThrow();
    for (const kind of [0, 5, 255]) {
      const bad = slice.slice();
      bad[1] = kind;
      expect(() => checkSlice(bad, 1)).toThrow(`values of kind ${kind}`);
      expect(() => readSlice(bad)).toThrow(`values of kind ${kind}`);
    }
    const width = slice.slice();
    width[3] = 3;
    expect(() => checkSlice(width, 1)).toThrow('key lengths of 3 bytes');
    expect(() => readSlice(width)).toThrow('key lengths of 3 bytes');
  });
});
