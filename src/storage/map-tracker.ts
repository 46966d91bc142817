import { CHANGE_TRACKER, type DurableMap, type MapChangeTracker } from '../api/durable-map.ts';
import { encodeSlice } from './map-slice.ts';

/** A stored piece of a map: `[sets, deletes]` (sets flat: k, v, k, v, …), encoded by map-slice.ts. */
export type Slice = Uint8Array;

/** Where a part of a map lives: the checkpoint window and the part's slot in it. */
export type PartRef = readonly [window: number, slot: number];

const ABSENT: unique symbol = Symbol('absent');

/**
 * Encodes one checkpoint of a map, as of the moment it was captured, in slices of `sliceEntries` entries
 * that may run in later turns while the actor goes on changing the map: the first change of a key after
 * the capture saves the key's captured value (copy-on-write, `before`), which the job then uses.
 *
 * A base walks the live map: keys untouched since the capture still hold their captured value; touched
 * keys (including those deleted before the walk reached them) are taken from `before`, skipping keys
 * that did not exist at the capture. A delta walks the keys changed since the base (the first `count`
 * of the tracker's insertion-ordered set, as it was at the capture) and writes each key's captured value,
 * or a delete.
 */
export class EncodeJob<K, V> {
  readonly slices: Slice[] = [];
  readonly before = new Map<K, V | typeof ABSENT>();
  done = false;
  private readonly keys: Iterator<K> | undefined;
  private readonly entries: Iterator<[K, V]> | undefined;
  private left: number;

  constructor(
    private readonly map: DurableMap<K, V>,
    readonly base: boolean,
    changed: Set<K>,
    private readonly sliceEntries: number,
  ) {
    this.left = base ? map.size : changed.size;
    if (base) this.entries = map.entries();
    else this.keys = changed.keys();
  }

  /** Entries still to encode (an estimate for a base: keys added since are skipped). */
  get remaining(): number {
    return this.done ? 0 : this.left;
  }

  /** Records a key's captured value before its first change (the map calls this through the tracker). */
  saveBefore(key: K): void {
    if (this.done || this.before.has(key)) return;
    this.before.set(key, this.map.has(key) ? (this.map.get(key) as V) : ABSENT);
  }

  /** Encodes the next slice; true when the job is complete. */
  step(): boolean {
    if (this.done) return true;
    const sets: unknown[] = [];
    const deletes: unknown[] = [];
    let n = 0;
    if (this.entries) {
      for (let e = this.entries.next(); ; e = this.entries.next()) {
        if (e.done) {
          this.finishBase(sets);
          break;
        }
        const [k, v] = e.value;
        if (!this.before.has(k)) sets.push(k, v);
        if (++n >= this.sliceEntries) break;
      }
    } else {
      while (this.left > 0 && n < this.sliceEntries) {
        const k = this.keys!.next().value as K;
        this.left--;
        n++;
        const v = this.before.has(k) ? this.before.get(k) : this.map.has(k) ? this.map.get(k) : ABSENT;
        if (v === ABSENT) deletes.push(k);
        else sets.push(k, v);
      }
      if (this.left === 0) this.done = true;
    }
    if (this.entries && !this.done) this.left = Math.max(0, this.left - n);
    if (sets.length > 0 || deletes.length > 0 || this.slices.length === 0) {
      this.slices.push(encodeSlice(sets, deletes));
    }
    if (this.done) this.before.clear();
    return this.done;
  }

  /** Runs the remaining slices now (a new capture or a clear() cannot wait for them). */
  finish(): void {
    while (!this.step()) {}
  }

  /** The keys changed before the walk reached them: their captured values, except keys added since. */
  private finishBase(sets: unknown[]): void {
    for (const [k, v] of this.before) if (v !== ABSENT) sets.push(k, v);
    this.done = true;
  }
}

/**
 * What the engine keeps for one DurableMap: the keys changed since its base, where the base is, and
 * the checkpoint encoding in progress, if any. Installed on the map at its first checkpoint or restore.
 */
export class MapTracker<K, V> implements MapChangeTracker<K, V> {
  /** Keys set or deleted since the base (insertion-ordered: a delta job reads a prefix of it). */
  changed = new Set<K>();
  /** The base's part; undefined: the next checkpoint writes a base. */
  base: PartRef | undefined;
  /** The copy of the base, in the first checkpoint after it (so one damaged record never loses it). */
  copy: PartRef | undefined;
  /** The base's encoded slices, held until the checkpoint after it stores the copy. */
  baseSlices: Slice[] | undefined;
  /** Entries the deltas since the base wrote: past the map's size, a new base is cheaper. */
  written = 0;
  /** Checkpoint encodings still running, oldest first (each keeps its captured values copy-on-write). */
  jobs: EncodeJob<K, V>[] = [];

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
    const job = new EncodeJob(map, base, this.changed, sliceEntries);
    this.unfinished().push(job);
    return job;
  }

  beforeChange(_map: DurableMap<K, V>, key: K): void {
    if (this.base !== undefined) this.changed.add(key);
    for (const job of this.jobs) job.saveBefore(key);
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
    this.changed = new Set();
    this.written = 0;
  }
}
