import {
  CHANGE_TRACKER,
  type DurableMap,
  GROUPS,
  KEY_GROUPS,
  type KeyGroups,
  keyHashOf,
  type MapChangeTracker,
} from '../api/durable-map.ts';
import { DirtyBuckets } from './dirty-buckets.ts';
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
 * of at most `sliceEntries` entries walked (one group each) that may run in later turns while the actor
 * goes on changing the map: the first change of a key after the capture saves the key's captured value
 * (copy-on-write, `before`), which the job then uses; groups already encoded need no saving.
 *
 * A base walks each group's live map in its order: keys untouched since the capture still hold their
 * captured value, touched ones are taken from `before` (skipping keys added since). The walk writes the
 * entries in the captured order, so that a restore iterates as the captured map did: a key changed
 * in place keeps its position; the first delete in a group not yet written (which would lose a key's
 * position) copies the rest of the group as captured (`frozen`) instead. A delta does the same in the
 * groups with a bucket changed since the base (DirtyBuckets, as captured), writing only keys of those
 * buckets, after a slice deleting the keys deleted since the base (at the capture): a key deleted and set
 * again then comes back at the end of its group, where the live map has it. A group still unbuilt since
 * a restore copies its restored delta slices. `sizes` are the groups' sizes at the capture (a lazy
 * restore needs them before building a group).
 */
export class EncodeJob<K, V> implements GroupedSlices {
  readonly slices: Slice[] = [];
  readonly groups: number[] = [];
  readonly counts: number[] = [];
  readonly sizes: number[] = new Array(KEY_GROUPS);
  done = false;
  private readonly before: Array<Before<K, V> | undefined> = new Array(KEY_GROUPS).fill(undefined);
  /** A group's entries as captured, from where its walk was, copied at the first delete in it. */
  private readonly frozen: Array<Array<[K, V]> | undefined> = new Array(KEY_GROUPS).fill(undefined);
  private readonly keyGroups: KeyGroups<K, V>;
  /** Delta: the changed buckets as captured, and the tracker's deleted keys (read as described above). */
  private readonly dirty: DirtyBuckets | undefined;
  private readonly deleted: Array<Set<K> | undefined> = [];
  /** Delta: per group, how many keys its deleted set held at the capture (the sets only grow). */
  private readonly deletedAtCapture: Int32Array | undefined;
  private readonly copied: Array<GroupedSlices | undefined> = [];
  /** The group being encoded (those below are done), the walk of it and the entries walked. */
  private group = 0;
  private walk: Iterator<[K, V]> | undefined;
  private walked = 0;
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
    if (kg.unbuilt !== undefined) this.fillUnbuiltSizes(kg, tracker);
    if (base) {
      this.left = kg.size;
      this.dirty = undefined;
      this.deletedAtCapture = undefined;
      return;
    }
    this.dirty = tracker.dirty.copy();
    this.deleted = tracker.deleted;
    this.deletedAtCapture = new Int32Array(KEY_GROUPS);
    const source = kg.loader as unknown as UnbuiltSource | undefined;
    this.left = 0;
    for (let g = 0; g < KEY_GROUPS; g++) {
      this.deletedAtCapture[g] = this.deleted[g]?.size ?? 0;
      if (kg.isUnbuilt(g)) this.copied[g] = source?.deltaOf(g);
      if (this.dirty.inGroup(g)) this.left += this.sizes[g]!;
    }
  }

  private fillUnbuiltSizes(kg: KeyGroups<K, V>, tracker: MapTracker<K, V>): void {
    for (let g = 0; g < KEY_GROUPS; g++) if (kg.isUnbuilt(g)) this.sizes[g] = tracker.unbuiltSize(g);
  }

  /** Entries still to walk (an estimate: keys added since are skipped). */
  get remaining(): number {
    return this.done ? 0 : Math.max(0, this.left);
  }

  /**
   * Records a key's captured value before its first change (the map calls this through the tracker), if
   * this job has yet to write the key's group and would write the key; before a delete, the group.
   */
  saveBefore(key: K, g: number, h: number, deleting: boolean): void {
    if (this.done || g < this.group || this.frozen[g] !== undefined) return;
    if (this.dirty !== undefined && (this.copied[g] !== undefined || !this.dirty.has(g, h))) return;
    if (deleting) {
      this.freeze(g);
      return;
    }
    let before = this.before[g];
    if (before === undefined) this.before[g] = before = new Map();
    if (before.has(key)) return;
    const m = this.keyGroups.maps[g];
    before.set(key, m?.has(key) ? (m.get(key) as V) : ABSENT);
  }

  /**
   * Copies group g's entries as captured, in order, from where its walk is (until a delete, the live map
   * holds the captured keys in the captured order, the keys added since at its end).
   */
  private freeze(g: number): void {
    const m = this.keyGroups.maps[g];
    const before = this.before[g];
    const walking = g === this.group && this.walk !== undefined;
    const skip = walking ? this.walked : 0;
    const out: Array<[K, V]> = [];
    let i = 0;
    if (m !== undefined) {
      for (const [k, v] of m) {
        if (i++ < skip) continue;
        if (before?.has(k)) {
          const b = before.get(k)!;
          if (b !== ABSENT) out.push([k, b]);
        } else out.push([k, v]);
      }
    }
    this.frozen[g] = out;
    this.before[g] = undefined;
    if (walking) this.walk = out[Symbol.iterator]();
  }

  /** Encodes slices of about `sliceEntries` entries walked in all; true when the job is complete. */
  step(): boolean {
    if (this.done) return true;
    let n = 0;
    while (n < this.sliceEntries && this.group < KEY_GROUPS) n += this.groupStep(this.sliceEntries - n);
    this.left -= n;
    if (this.group >= KEY_GROUPS) {
      this.done = true;
      this.before.fill(undefined);
      this.frozen.fill(undefined);
    }
    return this.done;
  }

  /** Runs the remaining slices now (a new capture or a clear() cannot wait for them). */
  finish(): void {
    while (!this.step()) {}
  }

  /** Walks up to `budget` entries of the current group; returns the entries walked. */
  private groupStep(budget: number): number {
    const g = this.group;
    const dirty = this.dirty;
    if (dirty !== undefined) {
      const copied = this.copied[g];
      if (copied !== undefined) return this.copy(g, copied);
      if (!dirty.inGroup(g)) return this.nextGroup();
    }
    if (this.walk === undefined) {
      const frozen = this.frozen[g];
      // An unbuilt group is built now (a base writes every entry; a dirty one is built, not copied, only
      // when its restored delta is no longer this tracker's): its contents are those captured.
      const m = frozen === undefined ? this.keyGroups.group(g, false) : undefined;
      if (frozen === undefined && m === undefined) return this.nextGroup();
      this.walk = frozen !== undefined ? frozen[Symbol.iterator]() : m!.entries();
      this.walked = 0;
      if (dirty !== undefined) this.emit(g, [], this.deletedBeforeCapture(g));
    }
    const walk = this.walk;
    const before = this.frozen[g] === undefined ? this.before[g] : undefined;
    const sets: unknown[] = [];
    let n = 0;
    for (; n < budget; n++) {
      const e = walk.next();
      if (e.done) {
        this.emit(g, sets, []);
        this.nextGroup();
        return n;
      }
      this.walked++;
      const k = e.value[0];
      const v = before?.has(k) ? before.get(k)! : e.value[1];
      if (v !== ABSENT && (dirty === undefined || dirty.has(g, keyHashOf(k)))) sets.push(k, v);
    }
    this.emit(g, sets, []);
    return n;
  }

  /** The keys of group g deleted since the base, up to the capture (some may have been set again). */
  private deletedBeforeCapture(g: number): unknown[] {
    const deleted = this.deleted[g];
    const n = this.deletedAtCapture![g]!;
    if (deleted === undefined || n === 0) return [];
    const out: unknown[] = [];
    for (const k of deleted) {
      if (out.length === n) break;
      out.push(k);
    }
    return out;
  }

  private copy(g: number, copied: GroupedSlices): number {
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

  private emit(g: number, sets: unknown[], deletes: unknown[]): void {
    if (sets.length === 0 && deletes.length === 0) return;
    this.slices.push(encodeSlice(sets, deletes));
    this.groups.push(g);
    this.counts.push((sets.length >>> 1) + deletes.length);
  }

  /** Done with the current group (skipping an empty group costs nothing of a step's budget). */
  private nextGroup(): number {
    this.before[this.group] = undefined;
    this.frozen[this.group] = undefined;
    this.group++;
    this.walk = undefined;
    return 0;
  }
}

/**
 * What the engine keeps for one DurableMap: which keys changed since its base (the buckets they hash to,
 * and the keys deleted), where the base is, and the checkpoint encodings in progress, if any. Installed
 * on the map at its first checkpoint or restore.
 *
 * Why buckets and not the changed keys themselves: a Set of changed keys costs every `set` a second
 * hash-table insert, and keeps alive every fresh key string it is given (the scavenger then copies and
 * promotes them): it doubled the CPU of a get/set loop on 1 M keys. Marking a bit costs next to nothing;
 * the price is paid by the checkpoint (a delta walks the dirty groups and writes the other keys of a
 * dirty bucket too: about 1 in 4 more, at the resolution DirtyBuckets picks).
 */
export class MapTracker<K, V> implements MapChangeTracker<K, V> {
  /** The buckets of the keys set or deleted since the base. */
  dirty = new DirtyBuckets(0);
  /** Per group, keys deleted since the base (some may have been set again since). */
  deleted: Array<Set<K> | undefined> = new Array(KEY_GROUPS).fill(undefined);
  deletedCount = 0;
  /** Entries of a restored delta in groups not built yet (they are marked when built). */
  unbuiltChanged = 0;
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
   * The generation in which every entry outside the dirty buckets was decoded by a restore (a lazy
   * restore sets it): the unrestorable-state walk then looks at the keys of dirty buckets only.
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

  /** About how many entries a delta taken now would write, for a map of `size` entries. */
  changedEstimate(size: number): number {
    // A deleted key's bucket is dirty: the estimate counts it already.
    return this.dirty.entriesEstimate(size) + this.unbuiltChanged;
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

  beforeChange(key: K, group: number, hash: number, deleting: boolean): void {
    if (this.base !== undefined) {
      this.dirty.mark(group, hash);
      if (deleting) this.markDeleted(key, group);
    }
    const jobs = this.jobs;
    for (let i = 0; i < jobs.length; i++) jobs[i]!.saveBefore(key, group, hash, deleting);
  }

  markDeleted(key: K, group: number): void {
    let set = this.deleted[group];
    if (set === undefined) this.deleted[group] = set = new Set();
    const n = set.size;
    set.add(key);
    this.deletedCount += set.size - n;
  }

  beforeClear(): void {
    for (const job of this.jobs) job.finish();
    this.jobs = [];
    this.needBase(0);
  }

  /** Forgets the base: the next checkpoint writes one (tracking at the resolution for `size` entries). */
  needBase(size: number): void {
    this.base = undefined;
    this.copy = undefined;
    this.baseSlices = undefined;
    this.resetChanges(size);
    this.written = 0;
    this.generation++;
  }

  /** Nothing changed since the base (a new one, or a restored one), a map of `size` entries. */
  resetChanges(size: number): void {
    this.dirty = new DirtyBuckets(size);
    this.deleted = new Array(KEY_GROUPS).fill(undefined);
    this.deletedCount = 0;
    this.unbuiltChanged = 0;
  }
}
