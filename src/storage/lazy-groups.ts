import { type GroupLoader, groupOfHash, KEY_GROUPS, keyGroupOf, keyHashOf } from '../api/durable-map.ts';
import { applySlice, checkSlice } from './map-slice.ts';
import type { GroupedSlices, MapTracker, Slice, UnbuiltSource } from './map-tracker.ts';

/** What a failed build reports (the restore's SnapshotCorruptError, made by its caller). */
export type CorruptError = (reason: string, cause?: unknown) => Error;

/**
 * The groups of a restored DurableMap that are not built yet: each is built from its base slices and its
 * delta slices (every record with key groups writes a group's slices together, in group order) on its
 * first access (a get, set, has or delete of one of its keys, an iteration reaching it, or a base
 * checkpoint), and not before: a window that touches few keys builds few groups, and nothing builds the
 * rest behind its back (a background builder did, and took the first windows' CPU). While the tracker's
 * base is still the restored one, building a group marks its delta's keys as changed (the next delta repeats them: deltas are cumulative), and a
 * checkpoint taken before the group is built copies the group's delta slices as they are.
 */
export class LazyGroups<K, V> implements GroupLoader<K, V>, UnbuiltSource {
  private readonly generation: number;
  private readonly baseBy: Array<GroupedSlices | undefined>;
  private readonly deltaBy: Array<GroupedSlices | undefined>;

  constructor(
    private readonly tracker: MapTracker<K, V>,
    base: GroupedSlices,
    delta: GroupedSlices | undefined,
    private readonly sizes: readonly number[],
    private readonly corrupt: CorruptError,
  ) {
    this.generation = tracker.generation;
    for (const s of delta === undefined ? [base] : [base, delta]) {
      for (let i = 0; i < s.slices.length; i++) {
        try {
          checkSlice(s.slices[i]!, s.counts[i]!);
        } catch (err) {
          throw corrupt('a slice of a map is malformed', err);
        }
      }
    }
    this.baseBy = byGroup(base);
    this.deltaBy = delta === undefined ? [] : byGroup(delta);
  }

  /** The groups with anything to build: entries, or deletes a later delta must repeat. */
  *groupsToBuild(): Generator<number> {
    for (let g = 0; g < KEY_GROUPS; g++) {
      if (this.sizes[g]! > 0 || this.baseBy[g] !== undefined || this.deltaBy[g] !== undefined) yield g;
    }
  }

  build(g: number): Map<K, V> {
    const m = new Map<K, V>();
    const misplaced = (key: unknown) => {
      throw this.corrupt(`key ${String(key)} of a map is stored in key group ${g}, not ${keyGroupOf(key)}`);
    };
    const set = (k: unknown, v: unknown) => {
      if (keyGroupOf(k) !== g) misplaced(k);
      m.set(k as K, v as V);
    };
    this.apply(this.baseBy[g], set, (k) => m.delete(k as K));
    const delta = this.deltaBy[g];
    if (delta !== undefined) {
      const tracker = this.tracker.generation === this.generation ? this.tracker : undefined;
      this.apply(
        delta,
        (k, v) => {
          const h = keyHashOf(k);
          if (groupOfHash(h) !== g) misplaced(k);
          m.set(k as K, v as V);
          tracker?.dirty.mark(g, h);
        },
        (k) => {
          const h = keyHashOf(k);
          if (groupOfHash(h) !== g) misplaced(k);
          m.delete(k as K);
          if (tracker !== undefined) {
            tracker.dirty.mark(g, h);
            tracker.markDeleted(k as K, g);
          }
        },
      );
      if (tracker !== undefined) for (const c of delta.counts) tracker.unbuiltChanged -= c;
    }
    if (m.size !== this.sizes[g])
      throw this.corrupt(
        `key group ${g} of a map holds ${m.size} entries, not the ${this.sizes[g]} recorded`,
      );
    this.baseBy[g] = undefined;
    this.deltaBy[g] = undefined;
    return m;
  }

  deltaOf(g: number): GroupedSlices | undefined {
    if (this.tracker.generation !== this.generation) return undefined;
    return this.deltaBy[g] ?? { slices: [], groups: [], counts: [] };
  }

  private apply(
    slices: GroupedSlices | undefined,
    set: (k: unknown, v: unknown) => void,
    del: (k: unknown) => void,
  ): void {
    if (slices === undefined) return;
    for (const slice of slices.slices) {
      try {
        applySlice(slice, set, del);
      } catch (err) {
        throw this.corrupt('a slice of a map does not decode', err);
      }
    }
  }
}

/** The slices of each group (a group's slices keep their order). */
function byGroup(s: GroupedSlices): Array<GroupedSlices | undefined> {
  const by: Array<GroupedSlices | undefined> = new Array(KEY_GROUPS).fill(undefined);
  for (let i = 0; i < s.slices.length; i++) {
    const g = s.groups[i]!;
    let mine = by[g];
    if (mine === undefined) by[g] = mine = { slices: [], groups: [], counts: [] };
    mine.slices.push(s.slices[i] as Slice);
    mine.groups.push(g);
    mine.counts.push(s.counts[i]!);
  }
  return by;
}
