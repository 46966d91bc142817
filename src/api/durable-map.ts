import { hashKey } from '../core/hash.ts';

/**
 * The engine's hook into a DurableMap (not public): told before a key changes or the map is cleared, so
 * that it can record which keys changed since the last checkpoint (and keep the value a checkpoint that
 * is still being encoded must see). `group` is the key's group and `hash` its hash (keyHashOf).
 */
export interface MapChangeTracker<K, V> {
  beforeChange(key: K, group: number, hash: number, deleting: boolean): void;
  beforeClear(map: DurableMap<K, V>): void;
}

/** Where a DurableMap keeps its tracker (a symbol: no name a user's subclass could clash with). */
export const CHANGE_TRACKER: unique symbol = Symbol('sluice.DurableMap.tracker');
/** Where a DurableMap keeps its entries (see KeyGroups). */
export const GROUPS: unique symbol = Symbol('sluice.DurableMap.groups');

/**
 * The number of key groups. A key's group is `hashKey(key) % KEY_GROUPS` (src/core/hash.ts, the hash
 * stream partitioning uses), so for any partition count p dividing 840 — every p from 1 to 8, and 10,
 * 12, 14, 15, 20, 21, 24, 28, 30, … — the keys of one group all belong to one partition
 * (`partitionOf(key, p) === group % p`): a rescale can move a map's state group by group. Changing this
 * number changes every key's group: stores written with another count are restored by rehashing (slowly).
 */
export const KEY_GROUPS = 840;

/**
 * A key's hash, as an int32: hashKey's (src/core/hash.ts), so a key group is a partition's subset. Object
 * keys (compared by identity, so no value of theirs may decide where they live: a mutated object would be
 * looked for in another group) all hash to 0, so they go to group 0.
 */
export function keyHashOf(key: unknown): number {
  if (typeof key === 'string') {
    // hashKey's FNV-1a, inlined: this runs on every get, set, has and delete.
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return h;
  }
  const t = typeof key;
  if ((t === 'object' && key !== null) || t === 'function' || t === 'symbol') return 0;
  return hashKey(key) | 0;
}

/** The group of a key of hash `h` (keyHashOf): `(h >>> 0) % KEY_GROUPS`. */
export function groupOfHash(h: number): number {
  // Without a float: h >>> 0 may exceed 2^31 (a heap number, and `%` on it a call into fmod); split it
  // in 16-bit halves, 2^16 ≡ 16 (mod 840).
  return ((((h >>> 16) % KEY_GROUPS) * 16 + (h & 0xffff)) % KEY_GROUPS) | 0;
}

/** A key's group: `hashKey(key) % KEY_GROUPS`, object keys in group 0. */
export function keyGroupOf(key: unknown): number {
  return groupOfHash(keyHashOf(key));
}

/** Builds a restored group (called once per group, on its first access). */
export interface GroupLoader<K, V> {
  build(group: number): Map<K, V>;
}

/**
 * A DurableMap's entries: one Map per key group, created on the group's first key. A restore may leave
 * groups unbuilt (`unbuilt[g]`, their entries still in the checkpoint's slices, counted in `size`): the
 * loader builds such a group on its first access, so a relaunch need not build a million-entry map
 * before the operator starts.
 */
export class KeyGroups<K, V> {
  readonly maps: Array<Map<K, V> | undefined> = new Array(KEY_GROUPS).fill(undefined);
  size = 0;
  loader: GroupLoader<K, V> | undefined;
  unbuilt: Uint8Array | undefined;
  unbuiltCount = 0;

  /** Group g's map, built first if it is unbuilt; created if `create`, else undefined when it has none. */
  group(g: number, create: boolean): Map<K, V> | undefined {
    const m = this.maps[g];
    if (m !== undefined) return m;
    if (this.unbuilt?.[g] === 1) return this.build(g);
    if (!create) return undefined;
    const fresh = new Map<K, V>();
    this.maps[g] = fresh;
    return fresh;
  }

  isUnbuilt(g: number): boolean {
    return this.unbuilt?.[g] === 1;
  }

  /** Leaves `groups` to `loader`, their `size` entries already counted. */
  defer(loader: GroupLoader<K, V>, groups: Iterable<number>, size: number): void {
    this.unbuilt = new Uint8Array(KEY_GROUPS);
    for (const g of groups) {
      if (this.unbuilt[g] === 0) this.unbuiltCount++;
      this.unbuilt[g] = 1;
    }
    this.loader = this.unbuiltCount > 0 ? loader : undefined;
    this.size += size;
  }

  build(g: number): Map<K, V> {
    const m = this.loader!.build(g);
    this.unbuilt![g] = 0;
    this.maps[g] = m;
    if (--this.unbuiltCount === 0) {
      this.loader = undefined;
      this.unbuilt = undefined;
    }
    return m;
  }

  /** Builds unbuilt groups until about `entries` entries are built; false once none is left. */
  buildSome(entries: number): boolean {
    let n = 0;
    for (let g = 0; g < KEY_GROUPS && this.unbuilt !== undefined && n < entries; g++) {
      if (this.unbuilt[g] === 1) n += this.build(g).size;
    }
    return this.unbuilt !== undefined;
  }

  reset(): void {
    this.maps.fill(undefined);
    this.size = 0;
    this.loader = undefined;
    this.unbuilt = undefined;
    this.unbuiltCount = 0;
  }

  setUntracked(key: K, value: V): void {
    const m = this.group(groupOfHash(keyHashOf(key)), true)!;
    const n = m.size;
    m.set(key, value);
    this.size += m.size - n;
  }

  deleteUntracked(key: K): boolean {
    const m = this.group(groupOfHash(keyHashOf(key)), false);
    if (m === undefined || !m.delete(key)) return false;
    this.size--;
    return true;
  }
}

/**
 * A Map for large keyed operator state: checkpointed incrementally. A checkpoint writes the keys set or
 * deleted since the last base (a delta: those keys, and the few that share a hash bucket with one), and
 * now and then the whole map (a base); a restore reads the base and the delta, and builds each key
 * group's entries on its first access (a key of it read or written, or an iteration reaching it), never
 * all before the operator starts nor behind its back: a first window that touches few keys builds few
 * groups. Put it in `this.state` as you would a Map; it
 * restores as a DurableMap.
 *
 * Changes are seen through `set`, `delete` and `clear`: a value object changed in place must be `set`
 * again for the change to reach the next checkpoint (or keep values immutable: numbers, strings, fresh
 * objects). Keys and values must round-trip through the state codec, as all state must.
 *
 * Iteration goes key group by key group (KEY_GROUPS), in insertion order within a group: deterministic
 * for a given sequence of changes (not a Map's insertion order), and a restore iterates exactly as the
 * map did at its checkpoint (keys deleted and set again, or changed while the checkpoint was encoded,
 * included), so a relaunched run iterates as an uninterrupted one.
 */
export class DurableMap<K, V> extends Map<K, V> {
  /** Set by the engine at the map's first checkpoint or restore; until then nothing is tracked. */
  [CHANGE_TRACKER]: MapChangeTracker<K, V> | undefined;
  readonly [GROUPS] = new KeyGroups<K, V>();

  constructor(entries?: Iterable<readonly [K, V]> | null) {
    // Map's constructor would call set() before the fields above exist: fill the map after it.
    super();
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  override get size(): number {
    return this[GROUPS].size;
  }

  // get, has and set read the group's Map straight from the array (the common case: built) and call
  // group() only for a group that is unbuilt or has no Map yet.
  override get(key: K): V | undefined {
    const groups = this[GROUPS];
    const g = groupOfHash(keyHashOf(key));
    const m = groups.maps[g];
    return m !== undefined ? m.get(key) : groups.group(g, false)?.get(key);
  }

  override has(key: K): boolean {
    const groups = this[GROUPS];
    const g = groupOfHash(keyHashOf(key));
    const m = groups.maps[g];
    return m !== undefined ? m.has(key) : (groups.group(g, false)?.has(key) ?? false);
  }

  override set(key: K, value: V): this {
    const groups = this[GROUPS];
    const h = keyHashOf(key);
    const g = groupOfHash(h);
    const m = groups.maps[g] ?? groups.group(g, true)!;
    const tracker = this[CHANGE_TRACKER];
    if (tracker !== undefined) tracker.beforeChange(key, g, h, false);
    const n = m.size;
    m.set(key, value);
    groups.size += m.size - n;
    return this;
  }

  override delete(key: K): boolean {
    const groups = this[GROUPS];
    const h = keyHashOf(key);
    const g = groupOfHash(h);
    const m = groups.group(g, false);
    if (m === undefined || !m.has(key)) return false;
    this[CHANGE_TRACKER]?.beforeChange(key, g, h, true);
    m.delete(key);
    groups.size--;
    return true;
  }

  override clear(): void {
    this[CHANGE_TRACKER]?.beforeClear(this);
    this[GROUPS].reset();
  }

  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    const groups = this[GROUPS];
    for (let g = 0; g < KEY_GROUPS; g++)
      groups.group(g, false)?.forEach((v, k) => {
        fn.call(thisArg, v, k, this);
      });
  }

  override entries(): MapIterator<[K, V]> {
    return new GroupsIterator(this[GROUPS], (m) => m.entries());
  }

  override keys(): MapIterator<K> {
    return new GroupsIterator(this[GROUPS], (m) => m.keys());
  }

  override values(): MapIterator<V> {
    return new GroupsIterator(this[GROUPS], (m) => m.values());
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}

/**
 * Iterates the groups' maps in group order, handing on their own iterators' results (a generator with
 * yield* costs several times more per entry).
 */
class GroupsIterator<K, V, T> implements MapIterator<T> {
  private g = 0;
  private inner: Iterator<T> | undefined;

  constructor(
    private readonly groups: KeyGroups<K, V>,
    private readonly pick: (m: Map<K, V>) => Iterator<T>,
  ) {}

  next(): IteratorResult<T, undefined> {
    for (;;) {
      if (this.inner !== undefined) {
        const r = this.inner.next();
        if (r.done !== true) return r;
        this.inner = undefined;
      }
      if (this.g >= KEY_GROUPS) return { done: true, value: undefined };
      const m = this.groups.group(this.g++, false);
      if (m !== undefined && m.size > 0) this.inner = this.pick(m);
    }
  }

  [Symbol.iterator](): MapIterator<T> {
    return this;
  }
}

/** Fills a map without telling its tracker (a restore building the map it just read). */
export function setUntracked<K, V>(map: DurableMap<K, V>, key: K, value: V): void {
  map[GROUPS].setUntracked(key, value);
}

export function deleteUntracked<K, V>(map: DurableMap<K, V>, key: K): void {
  map[GROUPS].deleteUntracked(key);
}

export function clearUntracked<K, V>(map: DurableMap<K, V>): void {
  map[GROUPS].reset();
}
