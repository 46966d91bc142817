import { describe, expect, it } from 'vitest';
import { DurableMap } from '../../src/api/durable-map.ts';
import { decodeState, encodeState } from '../../src/storage/codec.ts';
import { findUnrestorable } from '../../src/storage/round-trip-check.ts';
import { roundTrips } from './same-shape.ts';

class Counter {
  n = 0;
  inc(): void {
    this.n++;
  }
}
class TaggedMap extends Map<string, number> {}
class TaggedSet extends Set<number> {}

describe('findUnrestorable: what it accepts round-trips through the state codec', () => {
  const accepted: [string, unknown][] = [
    ['plain data', { a: 1, b: 'two', c: [true, false, null, undefined], d: { e: { f: 1.5 } } }],
    ['numbers of every kind', [0, -1, 2 ** 60, 1e300, Number.NaN, Infinity, -Infinity, 1.25]],
    ['bigints', [0n, -5n, 2n ** 200n]],
    [
      'Maps with any keys',
      new Map<unknown, unknown>([
        ['k', 1],
        [2, { x: [1] }],
        [3n, new Set([1])],
        [{ o: 1 }, 'v'],
      ]),
    ],
    ['Sets', new Set([1, 'a', 2n, { o: 1 }])],
    ['Dates, an invalid one too', [new Date(1_700_000_000_123), new Date(-1)]],
    [
      'typed arrays',
      [new Uint8Array([1]), new Int32Array([-2]), new Float64Array([1.5]), new BigInt64Array([-1n])],
    ],
    [
      'more typed arrays',
      [new Uint8ClampedArray([3]), new Uint16Array([4]), new Float32Array([0.5]), new BigUint64Array([9n])],
    ],
    ['undefined in arrays and fields', { u: undefined, list: [undefined, 1] }],
    ['a DurableMap', new DurableMap([['d7', { seen: 3 }]])],
    ['astral characters', 'emoji \u{1F600} and a pair \ud83d\ude00'],
    ['deep nesting', { a: [[{ m: new Map([['s', new Set([new Map([[1, { d: new Date(3) }]])])]]) }]] }],
  ];
  it.each(accepted)('%s: accepted, and comes back as it was', (_name, value) => {
    expect(findUnrestorable(value)).toBeUndefined();
    expect(roundTrips(value)).toBe(true);
  });
});

describe('findUnrestorable: what it refuses does not round-trip, and it names the path', () => {
  const cyclic: any = { inner: { list: [] } };
  cyclic.inner.list.push(cyclic.inner);
  const shared = { n: 1 };
  const sparse = [1];
  sparse[3] = 4;

  const refused: [string, unknown, string, RegExp][] = [
    [
      'a class instance',
      { byDevice: new Map([['d7', { handler: new Counter() }]]) },
      'state.byDevice.get("d7").handler',
      /instance of class Counter/,
    ],
    [
      'a function',
      { byDevice: new Map([['d7', { handler: () => 1 }]]) },
      'state.byDevice.get("d7").handler',
      /is a function/,
    ],
    ['a symbol', { list: [1, Symbol('s')] }, 'state.list[1]', /is a symbol/],
    ['a symbol key', { o: { [Symbol('k')]: 1 } }, 'state.o', /symbol key/],
    ['a Map subclass', { m: new TaggedMap() }, 'state.m', /TaggedMap \(a subclass of Map\)/],
    ['a Set subclass', { s: new TaggedSet([1]) }, 'state.s', /TaggedSet \(a subclass of Set\)/],
    ['an ArrayBuffer', { raw: new ArrayBuffer(4) }, 'state.raw', /ArrayBuffer/],
    ['a DataView', { raw: new DataView(new ArrayBuffer(4)) }, 'state.raw', /DataView/],
    ['an Error', { last: Object.assign(new TypeError('x'), { code: 'E1' }) }, 'state.last', /TypeError/],
    ['a RegExp (its lastIndex is lost)', { re: Object.assign(/a/g, { lastIndex: 1 }) }, 'state.re', /RegExp/],
    ['a boxed number', { n: new Number(3) }, 'state.n', /Number/],
    ['a WeakMap', { w: new WeakMap() }, 'state.w', /WeakMap/],
    ['a promise', { p: Promise.resolve(1) }, 'state.p', /promise/],
    ['an own __proto__ key', { o: JSON.parse('{"__proto__": 1}') }, 'state.o', /__proto__/],
    ['a hole in an array', { slots: sparse }, 'state.slots', /hole at index 1/],
    ['a lone surrogate', { names: ['ok', 'bad \ud800'] }, 'state.names[1]', /lone surrogate/],
    ['a lone surrogate in a Map key', new Map([['\udc00', 1]]), '[...state.keys()][0]', /lone surrogate/],
    [
      'a lone surrogate in an object key',
      { o: { ok: 1, '\ud800': 2 } },
      'state.o',
      /key with a lone surrogate/,
    ],
    ['a cycle', cyclic, 'state.inner.list[0]', /refers back to state.inner, which contains it/],
    ['an object in a Set', { s: new Set([1, { h: () => 0 }]) }, '[...state.s][1].h', /function/],
    ['an object-keyed Map value', new Map([[{ k: 1 }, new Counter()]]), '[...state.values()][0]', /Counter/],
    ['an odd property name', { 'a b': [new Counter()] }, 'state["a b"][0]', /Counter/],
  ];
  it.each(refused)('%s', (_name, value, path, problem) => {
    const found = findUnrestorable(value);
    expect(found?.path).toBe(path);
    expect(found?.problem).toMatch(problem);
    expect(roundTrips(value)).toBe(false);
  });

  it('an object reachable twice is refused: it would come back as two copies that no longer change together', () => {
    expect(findUnrestorable({ a: shared, b: new Map([[1, shared]]) })).toMatchObject({
      path: 'state.b.get(1)',
      problem: expect.stringMatching(/same object as one met earlier.*shared reference/),
    });
    const back = decodeState(encodeState({ a: shared, b: shared })) as { a: object; b: object };
    expect(back.a).toEqual(back.b);
    expect(back.a).not.toBe(back.b);
  });

  it('a Buffer is refused: from a store it comes back as a plain Uint8Array', () => {
    expect(findUnrestorable({ raw: Buffer.from([1, 2, 3]) })).toMatchObject({
      path: 'state.raw',
      problem: expect.stringMatching(/a Buffer \(it comes back as a plain Uint8Array/),
    });
    const stored = new Uint8Array(encodeState({ raw: Buffer.from([1]) }));
    expect((decodeState(stored) as { raw: Uint8Array }).raw.constructor).toBe(Uint8Array);
  });

  it('a null-prototype object is refused: it comes back as an ordinary object, where "toString" is inherited', () => {
    const dict = Object.assign(Object.create(null), { a: 1, b: [2] });
    expect(findUnrestorable({ words: dict })).toMatchObject({
      path: 'state.words',
      problem: expect.stringMatching(/null prototype .*Map/),
    });
    const back = decodeState(encodeState(dict)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(typeof back.toString).toBe('function'); // what a word count keyed by "toString" would then read
  });

  it('names the root when the state itself is wrong, under the name it is given', () => {
    expect(findUnrestorable(new Counter())).toEqual({
      path: 'state',
      problem: expect.stringMatching(/Counter/),
    });
    expect(findUnrestorable({ c: new Counter() }, { root: 'carry' })?.path).toBe('carry.c');
  });

  it('with a budget, looks at that many values only, the top of the state first (breadth first)', () => {
    const deep = { a: { b: { c: { d: new Counter() } } } };
    expect(findUnrestorable(deep, { budget: 4 })).toBeUndefined();
    expect(findUnrestorable(deep, { budget: 5 })?.path).toBe('state.a.b.c.d');
    const wide = { top: new Counter(), big: new Map(Array.from({ length: 1000 }, (_, i) => [i, { i }])) };
    expect(findUnrestorable(wide, { budget: 2 })?.path).toBe('state.top');
    wide.big.set(999, { i: new Counter() } as never);
    expect(findUnrestorable({ big: wide.big }, { budget: 100 })).toBeUndefined();
    expect(findUnrestorable({ big: wide.big })?.path).toBe('state.big.get(999).i');
  });

  it('walks a state of 200,000 keys', () => {
    const big = new Map<string, { n: number }>();
    for (let i = 0; i < 200_000; i++) big.set(`k${i}`, { n: i });
    expect(findUnrestorable({ big })).toBeUndefined();
    big.set('k199999', { n: 1, f: () => 0 } as never);
    expect(findUnrestorable({ big })?.path).toBe('state.big.get("k199999").f');
  });
});
