import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, sealState, unsealState } from '../../src/storage/codec.ts';
import type { StoreRecord } from '../../src/storage/errors.ts';
import { SnapshotCorruptError, StateNotEncodableError } from '../../src/storage/errors.ts';

const record: StoreRecord = { kind: 'snapshot', actorId: 'op#1', window: 7 };
const roundTrip = <T>(value: T): T => decodeState(encodeState(value)) as T;

describe('state codec', () => {
  it('decodes plain objects as plain objects and Maps as Maps, with any key types', () => {
    const value = {
      obj: { 1: 'one', k: 'v' },
      map: new Map<unknown, unknown>([
        [1, 'x'],
        ['k', { y: 1 }],
        [2n, [3]],
      ]),
    };
    const back = roundTrip(value);
    expect(back).toEqual(value);
    expect(Object.getPrototypeOf(back.obj)).toBe(Object.prototype);
    expect(back.map).toBeInstanceOf(Map);
    expect(back.map.get(1)).toBe('x');
    expect(back.map.get(2n)).toEqual([3]);
  });

  it('round-trips an empty Map and an empty object as themselves', () => {
    expect(roundTrip(new Map())).toEqual(new Map());
    expect(roundTrip(new Map())).toBeInstanceOf(Map);
    expect(roundTrip({})).toEqual({});
    expect(roundTrip({})).not.toBeInstanceOf(Map);
  });

  it('round-trips Sets, Dates and bigints of every size', () => {
    const big = [0n, 5n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, 2n ** 200n, -(2n ** 200n)];
    expect(roundTrip(big)).toEqual(big);
    for (const b of roundTrip(big)) expect(typeof b).toBe('bigint');
    const set = new Set([1, 'a', 2n]);
    expect(roundTrip(set)).toEqual(set);
    expect(roundTrip(new Date(1_700_000_000_123))).toEqual(new Date(1_700_000_000_123));
    expect(roundTrip(new Date(-1))).toEqual(new Date(-1));
  });

  it('keeps numbers as numbers, large and fractional ones included', () => {
    const numbers = [
      0,
      1,
      -1,
      2 ** 31,
      2 ** 32,
      2 ** 40,
      -(2 ** 40),
      2 ** 60,
      Number.MAX_SAFE_INTEGER,
      1.5,
      1e300,
    ];
    expect(roundTrip(numbers)).toEqual(numbers);
    for (const n of roundTrip(numbers)) expect(typeof n).toBe('number');
    expect(roundTrip([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
  });

  it('keeps undefined fields and array holes filled with undefined, and null', () => {
    const back = roundTrip({ u: undefined, n: null, list: [undefined, null, 3] });
    expect('u' in back).toBe(true);
    expect(back.u).toBeUndefined();
    expect(back.n).toBeNull();
    expect(back.list).toEqual([undefined, null, 3]);
  });

  it('round-trips deeply nested mixes of arrays, objects, Maps and Sets', () => {
    const value = {
      a: [[1, [2, [3, { m: new Map([['s', new Set([new Map([[1, { d: new Date(3) }]])])]]) }]]]],
    };
    expect(roundTrip(value)).toEqual(value);
  });

  it('round-trips Uint8Array as a fresh copy', () => {
    const bytes = encodeState({ b: new Uint8Array([1, 2, 3]) });
    const back = decodeState(bytes) as { b: Uint8Array };
    expect(back.b).toEqual(new Uint8Array([1, 2, 3]));
    expect(back.b.buffer).not.toBe(bytes.buffer);
  });

  it('stores state as a tree: a shared object comes back as two copies; class instances as plain objects', () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: shared });
    expect(back.a).toEqual(back.b);
    expect(back.a).not.toBe(back.b);
    class Point {
      constructor(readonly x: number) {}
    }
    const point = roundTrip(new Point(1));
    expect(point).toEqual({ x: 1 });
    expect(point).not.toBeInstanceOf(Point);
  });

  it('turns -0 into 0 (CBOR integers have no sign of zero)', () => {
    expect(Object.is(roundTrip(-0), 0)).toBe(true);
  });
});

describe('sealed frames', () => {
  const value = { sums: new Map([['k', [1, 2.5]]]), text: 'a snapshot worth checking', n: 123456789n };
  const frame = sealState(value, record);

  it('round-trip', () => {
    expect(unsealState(frame, record)).toEqual(value);
  });

  it('detect every single-bit flip at every position', () => {
    for (let i = 0; i < frame.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = Uint8Array.from(frame);
        damaged[i]! ^= 1 << bit;
        expect(() => unsealState(damaged, record), `byte ${i} bit ${bit}`).toThrow(SnapshotCorruptError);
      }
    }
  });

  it('detect every truncation and an appended byte', () => {
    for (let length = 0; length < frame.length; length++) {
      expect(() => unsealState(frame.subarray(0, length), record), `length ${length}`).toThrow(
        SnapshotCorruptError,
      );
    }
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    expect(() => unsealState(longer, record)).toThrow(SnapshotCorruptError);
  });

  it('name the actor and window in the corruption error', () => {
    const damaged = Uint8Array.from(frame);
    damaged[10]! ^= 0xff;
    const error = (() => {
      try {
        unsealState(damaged, record);
      } catch (err) {
        return err;
      }
    })() as SnapshotCorruptError;
    expect(error.code).toBe('SLUICE_SNAPSHOT_CORRUPT');
    expect(error.actorId).toBe('op#1');
    expect(error.window).toBe(7);
    expect(error.message).toMatch(/snapshot of actor "op#1" at window 7 is corrupt \(checksum mismatch\)/);
  });

  it('read a frame that sits at an offset inside a larger buffer', () => {
    const padded = new Uint8Array(frame.length + 13);
    padded.set(frame, 13);
    expect(unsealState(padded.subarray(13), record)).toEqual(value);
  });

  it('refuse values the codec cannot encode, and keep encoding afterwards', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    for (const bad of [cyclic, () => 1, Symbol('s')]) {
      expect(() => sealState(bad, record)).toThrow(StateNotEncodableError);
    }
    expect(unsealState(sealState({ ok: true }, record), record)).toEqual({ ok: true });
  });
});
