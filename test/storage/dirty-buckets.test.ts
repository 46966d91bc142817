import { describe, expect, it } from 'vitest';
import { groupOfHash, KEY_GROUPS, keyGroupOf, keyHashOf } from '../../src/api/durable-map.ts';
import { hashKey } from '../../src/core/hash.ts';
import { DirtyBuckets } from '../../src/storage/dirty-buckets.ts';

const at = (key: unknown) => [groupOfHash(keyHashOf(key)), keyHashOf(key)] as const;

describe('DirtyBuckets', () => {
  it('marks the bucket of a changed key and no other group; a copy does not see later marks', () => {
    const d = new DirtyBuckets(100_000);
    const [g, h] = at('k42');
    expect(d.has(g, h)).toBe(false);
    d.mark(g, h);
    d.mark(g, h); // twice: one bucket
    expect(d.has(g, h)).toBe(true);
    expect(d.count).toBe(1);
    expect(d.inGroup(g)).toBe(true);
    expect(d.inGroup((g + 1) % KEY_GROUPS)).toBe(false);
    const copy = d.copy();
    const [g2, h2] = at('k43');
    expect(g2).not.toBe(g); // (the hash is fixed: this holds in every run)
    d.mark(g2, h2);
    expect(d.has(g2, h2)).toBe(true);
    expect(copy.has(g2, h2)).toBe(false);
    expect(copy.count).toBe(1);
    expect(d.count).toBe(2);
  });

  it("splits a group finely enough for a large map that few unchanged keys share a changed key's bucket", () => {
    const size = 200_000;
    const d = new DirtyBuckets(size);
    for (let i = 0; i < 2_000; i++) {
      const [g, h] = at(`k${i * 97}`);
      d.mark(g, h);
    }
    let innocent = 0;
    for (let i = 0; i < size; i++) {
      if (i % 97 === 0 && i / 97 < 2_000) continue;
      const [g, h] = at(`k${i}`);
      if (d.has(g, h)) innocent++;
    }
    // About one in four buckets per entry: ~2,000 × 200,000 / 860,160 ≈ 470 neighbours.
    expect(innocent).toBeGreaterThan(100);
    expect(innocent).toBeLessThan(1_000);
    expect(d.entriesEstimate(size)).toBeGreaterThan(2_000);
    expect(d.entriesEstimate(size)).toBeLessThan(3_000);
  });

  it('gives a small map one bucket per group (a dirty bit per group)', () => {
    const d = new DirtyBuckets(10);
    const [g, h] = at('a');
    d.mark(g, h);
    for (let i = 0; i < 1_000; i++) {
      const [g2, h2] = at(`x${i}`);
      expect(d.has(g2, h2)).toBe(g2 === g);
    }
  });

  it('hashes keys as the partitioning hash does (a key group is a subset of a partition)', () => {
    for (const key of ['', 'k1', 'ünïcode', 0, 7, -3, 2 ** 40, 1.5, true]) {
      expect(keyHashOf(key) >>> 0).toBe(hashKey(key));
      expect(keyGroupOf(key)).toBe(hashKey(key) % KEY_GROUPS);
    }
    expect(keyHashOf({ a: 1 })).toBe(0);
  });
});
