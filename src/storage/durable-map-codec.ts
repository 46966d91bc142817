import { addExtension } from 'cbor-x';
import { DurableMap, setUntracked } from '../api/durable-map.ts';

/*
 * How a DurableMap goes through the state codec: CBOR tag 51234 around one of
 *
 *   ['full', [[k, v], …]]          the whole map inline (a snapshot written by the store itself, a
 *                                  DurableMap nested in another's values): self-contained;
 *   ['ref', slot, link, …]          inside an incremental checkpoint's skeleton: the map's contents are in
 *                                  the checkpoint's part `slot` (and the base it links to), written apart.
 *
 * 'ref' is only written and read inside a capture or restore scope (below): the incremental checkpoint
 * code encodes and decodes skeletons itself, synchronously, so a module-level scope is safe.
 */
export const DURABLE_MAP_TAG = 51234;

/** Called for each DurableMap met while an incremental checkpoint encodes its skeleton. */
export interface CaptureScope {
  reference(map: DurableMap<unknown, unknown>): unknown[];
}

/** Called for each 'ref' met while a restore decodes a skeleton: returns the map to fill later. */
export interface RestoreScope {
  resolve(ref: unknown[]): DurableMap<unknown, unknown>;
}

let capturing: CaptureScope | undefined;
let restoring: RestoreScope | undefined;

export function withCaptureScope<T>(scope: CaptureScope, fn: () => T): T {
  const outer = capturing;
  capturing = scope;
  try {
    return fn();
  } finally {
    capturing = outer;
  }
}

export function withRestoreScope<T>(scope: RestoreScope, fn: () => T): T {
  const outer = restoring;
  restoring = scope;
  try {
    return fn();
  } finally {
    restoring = outer;
  }
}

/** Iterable, not an Array: cbor-x writes it as an indefinite-length array without copying the map. */
class Entries<K, V> {
  constructor(private readonly map: Map<K, V>) {}
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}

addExtension<DurableMap<unknown, unknown>, unknown[]>({
  Class: DurableMap,
  tag: DURABLE_MAP_TAG,
  encode(map, encode) {
    return encode(capturing ? ['ref', ...capturing.reference(map)] : ['full', new Entries(map) as never]);
  },
  decode(item) {
    if (!Array.isArray(item)) throw new TypeError('a DurableMap tag holds an array');
    if (item[0] === 'full') {
      const map = new DurableMap<unknown, unknown>();
      for (const [k, v] of item[1] as Array<[unknown, unknown]>) setUntracked(map, k, v);
      return map;
    }
    if (item[0] === 'ref' && restoring !== undefined) return restoring.resolve(item.slice(1));
    throw new TypeError(`a DurableMap tag of kind ${String(item[0])} outside an incremental restore`);
  },
});
