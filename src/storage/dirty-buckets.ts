import { KEY_GROUPS } from '../api/durable-map.ts';

/** Buckets per key group at most (2^12: the hash's top 12 bits pick the bucket). */
const MAX_BUCKET_BITS = 12;
/** Buckets per entry of the map a resolution is picked for (more: fewer innocent keys in a delta). */
const BUCKETS_PER_ENTRY = 4;

/**
 * Which keys of a DurableMap changed since its base, to a bucket: each key group is split into
 * 2^bits buckets by the top bits of the key's hash (the group comes from the hash modulo 840, so the two
 * are close to independent), one bit each. Marking is a bit set; the price of not knowing the exact keys
 * is that a delta also writes the unchanged keys that share a bucket with a changed one (about one in
 * BUCKETS_PER_ENTRY at the resolution picked for the map's size when its base was taken: a map that grew
 * far past it marks coarser buckets until its next base, which the base-or-delta rule brings sooner).
 */
export class DirtyBuckets {
  private readonly bits: number;
  private readonly mask: number;
  private readonly words: Uint32Array;
  /** Dirty buckets per group. */
  private readonly perGroup: Int32Array;
  /** Dirty buckets in all. */
  count = 0;

  constructor(size: number, from?: DirtyBuckets) {
    if (from !== undefined) {
      this.bits = from.bits;
      this.mask = from.mask;
      this.words = from.words.slice();
      this.perGroup = from.perGroup.slice();
      this.count = from.count;
      return;
    }
    let bits = 0;
    while (bits < MAX_BUCKET_BITS && KEY_GROUPS << bits < size * BUCKETS_PER_ENTRY) bits++;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.words = new Uint32Array(((KEY_GROUPS << bits) + 31) >>> 5);
    this.perGroup = new Int32Array(KEY_GROUPS);
  }

  /** A copy that later marks do not change (what a checkpoint captured). */
  copy(): DirtyBuckets {
    return new DirtyBuckets(0, this);
  }

  /** Marks the bucket of a key of group `g` and hash `h` (keyHashOf). */
  mark(g: number, h: number): void {
    const i = (g << this.bits) | ((h >>> 20) & this.mask);
    const w = i >>> 5;
    const b = 1 << (i & 31);
    const word = this.words[w]!;
    if ((word & b) !== 0) return;
    this.words[w] = word | b;
    this.perGroup[g]!++;
    this.count++;
  }

  has(g: number, h: number): boolean {
    const i = (g << this.bits) | ((h >>> 20) & this.mask);
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** Whether any bucket of group `g` is dirty. */
  inGroup(g: number): boolean {
    return this.perGroup[g]! > 0;
  }

  /** About how many entries of a map of `size` the dirty buckets hold (each at least its changed key). */
  entriesEstimate(size: number): number {
    return Math.round(this.count * (1 + size / (KEY_GROUPS << this.bits)));
  }
}
