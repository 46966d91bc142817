/**
 * The engine's hook into a DurableMap (not public): told before a key changes or the map is cleared, so
 * that it can record which keys changed since the last checkpoint (and keep the value a checkpoint that
 * is still being encoded must see).
 */
export interface MapChangeTracker<K, V> {
  beforeChange(map: DurableMap<K, V>, key: K): void;
  beforeClear(map: DurableMap<K, V>): void;
}

/** Where a DurableMap keeps its tracker (a symbol: no name a user's subclass could clash with). */
export const CHANGE_TRACKER: unique symbol = Symbol('sluice.DurableMap.tracker');

/**
 * A Map for large keyed operator state: checkpointed incrementally. A checkpoint writes only the keys
 * set or deleted since the previous one (a delta), and now and then the whole map (a base); a restore
 * reads the base and the deltas after it. Put it in `this.state` as you would a Map; it restores as a
 * DurableMap.
 *
 * Changes are seen through `set`, `delete` and `clear`: a value object changed in place must be `set`
 * again for the change to reach the next checkpoint (or keep values immutable: numbers, strings, fresh
 * objects). Keys and values must round-trip through the state codec, as all state must.
 */
export class DurableMap<K, V> extends Map<K, V> {
  /** Set by the engine at the map's first checkpoint or restore; until then nothing is tracked. */
  [CHANGE_TRACKER]: MapChangeTracker<K, V> | undefined;

  override set(key: K, value: V): this {
    // Map's constructor calls set() before the field above exists: nothing to track then.
    this[CHANGE_TRACKER]?.beforeChange(this, key);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const tracker = this[CHANGE_TRACKER];
    if (tracker !== undefined && super.has(key)) tracker.beforeChange(this, key);
    return super.delete(key);
  }

  override clear(): void {
    this[CHANGE_TRACKER]?.beforeClear(this);
    super.clear();
  }
}

/** Fills a map without telling its tracker (a restore building the map it just read). */
export function setUntracked<K, V>(map: DurableMap<K, V>, key: K, value: V): void {
  Map.prototype.set.call(map, key, value);
}

export function deleteUntracked<K, V>(map: DurableMap<K, V>, key: K): void {
  Map.prototype.delete.call(map, key);
}

export function clearUntracked<K, V>(map: DurableMap<K, V>): void {
  Map.prototype.clear.call(map);
}
