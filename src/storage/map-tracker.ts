import {
  CHANGE_TRACKER,
  type DurableMap,
  GROUPS,
  KEY_GROUPS,
  type KeyGroups,
  type MapChangeTracker,
} from '../api/durable-map.ts';
import { encodeSlice } from './map-slice.ts';

/** A stored piece of a map: `[sets, deletes]` (sets flat: k, v, k, v, …), encoded by map-slice.ts. */
export type Slice = Uint8Array;

/**
 * Slices of one key group each (`groups[i]`: slice i's group; a group may span several slices, in
 * order), with their entry counts (sets plus deletes).
 */
export type GroupedSlices = { slices: Slice[]; groups: number[]; counts: number[] };

/** Where a part of a map lives: the checkpoint window and the part's slot in it. */
export type PartRef = readonly [window: number, slot: number];

/** What a restore left unbuilt that a checkpoint can use without building it (lazy-groups.ts). */
export interface UnbuiltSource {
  /** Group g's slices of the delta it was restored with, if the tracker's base is still that delta's. */
  deltaOf(g: number): GroupedSlices | undefined;
}

const ABSENT: unique symbol = Symbol('absent');
type Before<K, V> = Map<K, V | typeof ABSENT>;

/**
 * Encodes one checkpoint of a map, as of the moment it was captured, key group by key group, in slices
 * of at most `sliceEntries` entries (one group each) that may run in later turns while the actor goes on
 * changing the map: the first change of a key after the capture saves the key's captured value
 * (copy-on-write, `before`), which the job then uses; groups already encoded need no saving.
 *
 * A base walks each group's live map: keys untouched since the capture still hold their captured value;
 * touched keys (including those deleted before the walk reached them) are taken from `before`, skipping
 * keys that did not exist at the capture. A delta walks, per group, the keys changed since the base (the
 * first `counts[g]` of the group's insertion-ordered set, as it was at the capture) and writes each key's
 * captured value, or a delete; a group still unbuilt since a restore copies its restored delta slices.
 * `sizes` are the groups' sizes at the capture (a lazy restore needs them before building a group).
 */
export class EncodeJob<K, V> implements GroupedSlices {
  readonly slices: Slice[] = [];
  readonly groups: number[] = [];
  readonly counts: number[] = [];
  readonly sizes: number[] = new Array(KEY_GROUPS);
  done = false;
  private readonly before: Array<Before<K, V> | undefined> = new Array(KEY_GROUPS).fill(undefined);
  private readonly keyGroups: KeyGroups<K, V>;
  /** Delta: per group, the changed-key set and how many of its keys this delta writes. */
  private readonly changedSets: Array<Set<K> | undefined> = [];
  private readonly changedCounts: Int32Array | undefined;
  private readonly copied: Array<GroupedSlices | undefined> = [];
  /** The group being encoded (those below are done) and where the walk of it is. */
  private group = 0;
  private walk: Iterator<[K, V]> | Iterator<K> | undefined;
  private walkLeft = 0;
  private left: number;

  constructor(
    map: DurableMap<K, V>,
    readonly base: boolean,
    tracker: MapTracker<K, V>,
    private readonly sliceEntries: number,
  ) {
    const kg = map[GROUPS];
    this.keyGroups = kg;
    for (let g = 0; g < KEY_GROUPS; g++) this.sizes[g] = kg.maps[g]?.size ?? 0;
    if (base) {
      this.left = kg.size;
      this.changedCounts = undefined;
      // Unbuilt groups' sizes: the whole map's less the built ones'.
      if (kg.unbuilt !== undefined) this.fillUnbuiltSizes(kg, tracker);
      return;
    }
    this.left = tracker.changedSize;
    this.changedCounts = new Int32Array(KEY_GROUPS);
    const source = kg.loader as unknown as UnbuiltSource | undefined;
    for (let g = 0; g < KEY_GROUPS; g++) {
      const set = tracker.changed[g];
      this.changedSets[g] = set;
      this.changedCounts[g] = set?.size ?? 0;
      if (kg.isUnbuilt(g)) this.copied[g] = source?.deltaOf(g);
    }
    if (kg.unbuilt !== undefined) this.fillUnbuiltSizes(kg, tracker);
  }

  private fillUnbuiltSizes(kg: KeyGroups<K, V>, tracker: MapTracker<K, V>): void {
    for (let g = 0; g < KEY_GROUPS; g++) if (kg.isUnbuilt(g)) this.sizes[g] = tracker.unbuiltSize(g);
  }

  /** Entries still to encode (an estimate for a base: keys added since are skipped). */
  get remaining(): number {
    return this.done ? 0 : Math.max(0, this.left);
  }

  /** Records a key's captured value before its first change (the map calls this through the tracker). */
  saveBefore(key: K, g: number): void {
    if (this.done || g < this.group) return;
    if (this.changedCounts !== undefined && (this.changedCounts[g] === 0 || this.copied[g] !== undefined))
      return;
    let before = this.before[g];
    if (before === undefined) this.before[g] = before = new Map();
    if (before.has(key)) return;
    const m = this.keyGroups.maps[g];
    before.set(key, m?.has(key) ? (m.get(key) as V) : ABSENT);
  }

  /** Encodes slices of about `sliceEntries` entries in all; true when the job is complete. */
  step(): boolean {
    if (this.done) return true;
    let n = 0;
    while (n < this.sliceEntries && this.group < KEY_GROUPS) {
      n += this.base ? this.baseStep(this.sliceEntries - n) : this.deltaStep(this.sliceEntries - n);
    }
    this.left -= n;
    if (this.group >= KEY_GROUPS) {
      this.done = true;
      this.before.fill(undefined);
    }
    return this.done;
  }

  /** Runs the remaining slices now (a new capture or a clear() cannot wait for them). */
  finish(): void {
    while (!this.step()) {}
  }

  /** Walks up to `budget` entries of the current group; returns the entries walked. */
  private baseStep(budget: number): number {
    const g = this.group;
    const before = this.before[g];
    if (this.walk === undefined) {
      // An unbuilt group is built now (a base writes every entry): its contents are those captured.
      const m = this.keyGroups.group(g, false);
      if (m === undefined || (m.size === 0 && before === undefined)) return this.nextGroup();
      this.walk = m.entries();
    }
    const walk = this.walk as Iterator<[K, V]>;
    const sets: unknown[] = [];
    let n = 0;
    for (; n < budget; n++) {
      const e = walk.next();
      if (e.done) {
        // The keys changed before the walk reached them: their captured values, except keys added since.
        if (before !== undefined) for (const [k, v] of before) if (v !== ABSENT) sets.push(k, v);
        this.emit(g, sets, []);
        this.nextGroup();
        return n;
      }
      const [k, v] = e.value;
      if (before === undefined || !before.has(k)) sets.push(k, v);
    }
    this.emit(g, sets, []);
    return n;
  }

  private deltaStep(budget: number): number {
    const g = this.group;
    const copied = this.copied[g];
    if (copied !== undefined) {
      let n = 0;
      for (let i = 0; i < copied.slices.length; i++) {
        if (copied.groups[i] !== g) continue;
        this.slices.push(copied.slices[i]!);
        this.groups.push(g);
        this.counts.push(copied.counts[i]!);
        n += copied.counts[i]!;
      }
      this.nextGroup();
      return n;
    }
    if (this.walk === undefined) {
      if (this.changedCounts![g] === 0) return this.nextGroup();
      this.walk = this.changedSets[g]!.keys();
      this.walkLeft = this.changedCounts![g]!;
    }
    const walk = this.walk as Iterator<K>;
    const before = this.before[g];
    const m = this.keyGroups.maps[g];
    const sets: unknown[] = [];
    const deletes: unknown[] = [];
    let n = 0;
    while (n < budget && this.walkLeft > 0) {
      const k = walk.next().value as K;
      this.walkLeft--;
      n++;
      const v = before?.has(k) ? before.get(k) : m?.has(k) ? m.get(k) : ABSENT;
      if (v === ABSENT) deletes.push(k);
      else sets.push(k, v);
    }
    this.emit(g, sets, deletes);
    if (this.walkLeft === 0) this.nextGroup();
    return n;
  }

  private emit(g: number, sets: unknown[], deletes: unknown[]): void {
    if (sets.length === 0 && deletes.length === 0) return;
    this.slices.push(encodeSlice(sets, deletes));
    this.groups.push(g);
    this.counts.push((sets.length >>> 1) + deletes.length);
  }

  /** Done with the current group (skipping an empty group costs nothing of a step's budget). */
  private nextGroup(): number {
    this.before[this.group] = undefined;
    this.group++;
    this.walk = undefined;
    return 0;
  }
}

/**
 * What the engine keeps for one DurableMap: the keys changed since its base (per key group), where the
 * base is, and the checkpoint encodings in progress, if any. Installed on the map at its first checkpoint
 * or restore.
 */
export class MapTracker<K, V> implements MapChangeTracker<K, V> {
  /** Per group, the keys set or deleted since the base (insertion-ordered: a delta reads a prefix). */
  changed: Array<Set<K> | undefined> = new Array(KEY_GROUPS).fill(undefined);
  /** How many keys changed since the base, in all groups (unbuilt ones included). */
  changedSize = 0;
  /** Raised with every new base: a restored delta belongs to the generation it was restored in. */
  generation = 0;
  /** The base's part; undefined: the next checkpoint writes a base. */
  base: PartRef | undefined;
  /** The copy of the base, in the first checkpoint after it (so one damaged record never loses it). */
  copy: PartRef | undefined;
  /** The base's encoded slices, held until the checkpoint after it stores the copy. */
  baseSlices: GroupedSlices | undefined;
  /** Entries the deltas since the base wrote: past the map's size, a new base is cheaper. */
  written = 0;
  /** Checkpoint encodings still running, oldest first (each keeps its captured values copy-on-write). */
  jobs: EncodeJob<K, V>[] = [];
  /**
   * The generation in which every entry outside `changed` was decoded by a restore (a lazy restore sets
   * it): the unrestorable-state walk then looks at the changed keys only.
   */
  decodedGeneration: number | undefined;
  /** A lazy restore's per-group sizes of the groups it left unbuilt. */
  restoredSizes: ArrayLike<number> | undefined;

  static of<K, V>(map: DurableMap<K, V>): MapTracker<K, V> {
    const existing = map[CHANGE_TRACKER];
    if (existing instanceof MapTracker) return existing;
    const tracker = new MapTracker<K, V>();
    map[CHANGE_TRACKER] = tracker;
    return tracker;
  }

  /** The encodings of earlier checkpoints that are not finished. */
  unfinished(): EncodeJob<K, V>[] {
    this.jobs = this.jobs.filter((j) => !j.done);
    return this.jobs;
  }

  /** Starts encoding this map's checkpoint (a base, or the keys changed since the base). */
  startJob(map: DurableMap<K, V>, base: boolean, sliceEntries: number): EncodeJob<K, V> {
    const job = new EncodeJob(map, base, this, sliceEntries);
    this.unfinished().push(job);
    return job;
  }

  /** An unbuilt group's size, as the restore recorded it (it has not changed since: it is unbuilt). */
  unbuiltSize(g: number): number {
    return this.restoredSizes?.[g] ?? 0;
  }

  beforeChange(_map: DurableMap<K, V>, key: K, group: number): void {
    if (this.base !== undefined) {
      let set = this.changed[group];
      if (set === undefined) this.changed[group] = set = new Set();
      const n = set.size;
      set.add(key);
      this.changedSize += set.size - n;
    }
    for (const job of this.jobs) job.saveBefore(key, group);
  }

  beforeClear(): void {
    for (const job of this.jobs) job.finish();
    this.jobs = [];
    this.needBase();
  }

  needBase(): void {
    this.base = undefined;
    this.copy = undefined;
    this.baseSlices = undefined;
    this.changed = new Array(KEY_GROUPS).fill(undefined);
    this.changedSize = 0;
    this.written = 0;
    this.generation++;
  }
}
