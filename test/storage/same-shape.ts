import { isDeepStrictEqual } from 'node:util';
import { decodeState, encodeState } from '../../src/storage/codec.ts';

/**
 * Does the codec give back a value deep-equal to `value`, with the same prototype at every level, the
 * same accessors, and the same sharing (an object met twice in `value` is one object in the copy too)?
 */
export function roundTrips(value: unknown): boolean {
  let back: unknown;
  try {
    back = decodeState(encodeState(value));
  } catch {
    return false;
  }
  return isDeepStrictEqual(value, back) && sameShape(value, back, new Map());
}

export function sameShape(a: unknown, b: unknown, pairs: Map<object, unknown>): boolean {
  if (typeof a !== 'object' || a === null) return true;
  if (pairs.has(a)) return pairs.get(a) === b;
  pairs.set(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Map) {
    const bs = [...(b as Map<unknown, unknown>).entries()];
    return [...a.entries()].every(
      ([k, v], i) => sameShape(k, bs[i]![0], pairs) && sameShape(v, bs[i]![1], pairs),
    );
  }
  if (a instanceof Set) {
    const bs = [...(b as Set<unknown>)];
    return [...a].every((v, i) => sameShape(v, bs[i], pairs));
  }
  if (ArrayBuffer.isView(a)) return true;
  return Object.keys(a).every((k) => {
    const accessor = (o: object) => Object.getOwnPropertyDescriptor(o, k)?.get !== undefined;
    return accessor(a) === accessor(b as object) && sameShape((a as any)[k], (b as any)[k], pairs);
  });
}
