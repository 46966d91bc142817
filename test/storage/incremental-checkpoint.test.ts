import { describe, expect, it } from 'vitest';
import { DurableMap, GROUPS, keyGroupOf } from '../../src/api/durable-map.ts';
import { decodeState, encodeState, sealState } from '../../src/storage/codec.ts';
import { SnapshotCorruptError } from '../../src/storage/errors.ts';
import { FrameBuilder, sealEncoded } from '../../src/storage/frame-builder.ts';
import { IncrementalCapture } from '../../src/storage/incremental-capture.ts';
import {
  DEFAULT_INCREMENTAL_OPTIONS,
  type IncrementalOptions,
  type IncrementalRecord,
  readRecord,
  recordPieces,
} from '../../src/storage/incremental-record.ts';
import { restoreIncremental } from '../../src/storage/incremental-restore.ts';
import { readSlice } from '../../src/storage/map-slice.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';
import { findUnrestorable } from '../../src/storage/round-trip-check.ts';

/** Small slices, so that even small maps are encoded over several steps. */
const SLICED: IncrementalOptions = { ...DEFAULT_INCREMENTAL_OPTIONS, sliceEntries: 5, syncEntries: 0 };

/** A deterministic pseudo-random sequence (no Math.random: a failure must replay). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type State = { m: DurableMap<string, number>; n: number };

async function store(): Promise<MemorySnapshotStore> {
  const s = new MemorySnapshotStore();
  await s.open();
  return s;
}

/** Stores a capture as the engine does: its frame assembled in 100-byte steps. */
async function save(s: MemorySnapshotStore, window: number, capture: IncrementalCapture): Promise<void> {
  const builder = new FrameBuilder(recordPieces(capture.checkpoint()));
  while (!builder.step(100)) {}
  await s.saveSnapshot('op', window, builder.sealed());
}

async function restore(s: MemorySnapshotStore, window: number) {
  const stored = (await s.loadSnapshot('op', window)) as IncrementalRecord;
  const { snapshot, chainFrom } = await restoreIncremental(s, 'op', window, stored);
  return { state: (snapshot as { state: State }).state, chainFrom, record: readRecord(stored) };
}

/** n random sets and deletes of keys k0..k199. */
function mutate(m: DurableMap<string, number>, rnd: () => number, n: number): void {
  for (let i = 0; i < n; i++) {
    const k = `k${Math.floor(rnd() * 200)}`;
    if (rnd() < 0.3) m.delete(k);
    else m.set(k, Math.floor(rnd() * 1000));
  }
}

describe('incremental checkpoints of a DurableMap', () => {
  it('restore each checkpoint exactly as captured, although the map changes while it is encoded in slices', async () => {
    const s = await store();
    const rnd = prng(7);
    const m = new DurableMap<string, number>();
    mutate(m, rnd, 300);
    const kinds: string[] = [];
    const expected = new Map<number, Map<string, number>>();
    for (let w = 1; w <= 30; w++) {
      if (w === 17) m.clear();
      const capture = IncrementalCapture.take('op', w, { state: { m, n: w } }, SLICED);
      expected.set(w, new Map(m));
      // The actor runs on between slices: changes after the capture must not reach this checkpoint.
      while (!capture.step()) mutate(m, rnd, 3);
      await save(s, w, capture);
      kinds.push(capture.checkpoint().parts[0]!.kind);
      mutate(m, rnd, w % 7 === 0 ? 120 : 4);
    }
    for (let w = 1; w <= 30; w++) {
      const { state } = await restore(s, w);
      expect(state.m).toBeInstanceOf(DurableMap);
      expect(new Map(state.m)).toEqual(expected.get(w));
      expect(state.n).toBe(w);
    }
    // Both kinds were exercised: deltas, and new bases (the first, after many changes, after clear()).
    expect(kinds.filter((k) => k === 'base').length).toBeGreaterThan(2);
    expect(kinds.filter((k) => k === 'delta').length).toBeGreaterThan(5);
    expect(kinds[16]).toBe('base');
  });

  it('restore every checkpoint when later ones are taken while earlier ones are still being encoded', async () => {
    const s = await store();
    const rnd = prng(11);
    const m = new DurableMap<string, number>();
    mutate(m, rnd, 300);
    const captures: IncrementalCapture[] = [];
    const expected: Array<Map<string, number>> = [];
    for (let w = 1; w <= 4; w++) {
      captures.push(IncrementalCapture.take('op', w, { state: { m, n: w } }, SLICED));
      expected.push(new Map(m));
      // The actor goes on between slices; the checkpoints overlap (at most two still encoding).
      for (let i = 0; i < 3; i++) {
        captures[captures.length - 1]!.step();
        mutate(m, rnd, 3);
      }
    }
    expect(captures[3]!.step()).toBe(false); // the last one really did overlap the one before it
    for (const [i, c] of captures.entries()) {
      while (!c.step()) mutate(m, rnd, 3);
      await save(s, i + 1, c);
    }
    for (let w = 1; w <= 4; w++) expect(new Map((await restore(s, w)).state.m)).toEqual(expected[w - 1]);
  });

  it('write the keys changed since the base (and only keys sharing a bucket with one), with deletes, and keep the base window for cleanup', async () => {
    const s = await store();
    const m = new DurableMap<string, number>();
    for (let i = 0; i < 1000; i++) m.set(`k${i}`, i);
    const first = IncrementalCapture.take('op', 10, { state: { m, n: 0 } }, DEFAULT_INCREMENTAL_OPTIONS);
    first.finish();
    await save(s, 10, first);
    m.set('k1', -1);
    m.delete('k2');
    m.set('new', 5);
    const second = IncrementalCapture.take('op', 20, { state: { m, n: 1 } }, DEFAULT_INCREMENTAL_OPTIONS);
    second.finish();
    const part = second.checkpoint().parts[0]!;
    expect(part.kind).toBe('delta');
    // One slice per key group touched, each holding only keys of its group.
    const sets = new Map<unknown, unknown>();
    const deletes: unknown[] = [];
    for (const [i, slice] of part.slices.entries()) {
      const [s, d] = readSlice(slice);
      for (let j = 0; j < s.length; j += 2) sets.set(s[j], s[j + 1]);
      deletes.push(...d);
      for (const k of [...s.filter((_, j) => j % 2 === 0), ...d]) expect(keyGroupOf(k)).toBe(part.groups![i]);
    }
    // The changed keys, and at most a few others (unchanged, of a changed key's bucket): 1,000 keys in
    // 6,720 buckets.
    expect(sets.get('k1')).toBe(-1);
    expect(sets.get('new')).toBe(5);
    expect(sets.size).toBeLessThanOrEqual(4);
    for (const [k, v] of sets) if (k !== 'k1' && k !== 'new') expect(v).toBe(Number(String(k).slice(1)));
    expect(deletes).toEqual(['k2']);
    expect(second.chainFrom).toBe(10);
    await save(s, 20, second);
    const { state, chainFrom } = await restore(s, 20);
    expect(chainFrom).toBe(10);
    expect(state.m.has('k2')).toBe(false);
    expect(state.m.get('k1')).toBe(-1);
    expect(state.m.size).toBe(1000);
  });

  it('continue after a restore: the restored map is tracked, and its next delta restores too', async () => {
    const s = await store();
    const m = new DurableMap<number, string>([1, 5, 6, 7, 8, 9].map((k) => [k, 'a']));
    for (const [w, change] of [
      [1, () => m.set(2, 'b')],
      [2, () => m.set(3, 'c')],
    ] as const) {
      const c = IncrementalCapture.take('op', w, { state: { m } }, DEFAULT_INCREMENTAL_OPTIONS);
      c.finish();
      await save(s, w, c);
      change();
    }
    const restored = (await restore(s, 2)).state.m as unknown as DurableMap<number, string>;
    restored.delete(1);
    restored.set(4, 'd');
    const c = IncrementalCapture.take('op', 3, { state: { m: restored } }, DEFAULT_INCREMENTAL_OPTIONS);
    c.finish();
    expect(c.checkpoint().parts[0]!.kind).toBe('delta');
    await save(s, 3, c);
    const again = (await restore(s, 3)).state.m as unknown as DurableMap<number, string>;
    expect(new Map(again)).toEqual(
      new Map([2, 4, 5, 6, 7, 8, 9].map((k) => [k, k === 2 ? 'b' : k === 4 ? 'd' : 'a'])),
    );
  });

  it('read a damaged base from its copy in the next checkpoint, and refuse when both are damaged', async () => {
    const s = await store();
    const m = new DurableMap<string, number>(['a', 'b', 'c', 'd', 'e'].map((k) => [k, 1]));
    for (const w of [1, 2, 3]) {
      const c = IncrementalCapture.take('op', w, { state: { m, n: w } }, DEFAULT_INCREMENTAL_OPTIONS);
      c.finish();
      await save(s, w, c);
      m.set(`w${w}`, w);
    }
    s.corrupt('op', 1);
    const { state, record } = await restore(s, 3);
    expect(record.parts[0]!.kind).toBe('delta');
    expect(new Map(state.m)).toEqual(
      new Map([...'abcde'.split('').map((k) => [k, 1] as const), ['w1', 1] as const, ['w2', 2] as const]),
    );
    s.corrupt('op', 2);
    await expect(restore(s, 3)).rejects.toBeInstanceOf(SnapshotCorruptError);
  });

  it('restore lazily: groups built on first use only, and the unrestorable-state walk looks at changed keys only', async () => {
    const s = await store();
    const m = new DurableMap<string, unknown>();
    for (let i = 0; i < 5000; i++) m.set(`k${i}`, i);
    const c = IncrementalCapture.take('op', 1, { state: { m, n: 1 } }, DEFAULT_INCREMENTAL_OPTIONS);
    c.finish();
    await save(s, 1, c);
    const { state } = await restore(s, 1);
    const groups = state.m[GROUPS];
    const unbuilt = groups.unbuiltCount;
    expect(unbuilt).toBeGreaterThan(800); // 5,000 keys in 840 groups: nearly all hold some
    expect(state.m.size).toBe(5000);
    expect(findUnrestorable(state)).toBeUndefined();
    expect(groups.unbuiltCount).toBe(unbuilt); // the walk built nothing
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(groups.unbuiltCount).toBe(unbuilt); // nor did scheduler turns (no background builder)
    expect(state.m.get('k17')).toBe(17);
    expect(groups.unbuiltCount).toBe(unbuilt - 1); // one access, one group
    (state.m as DurableMap<string, unknown>).set('k4242', new (class Counter {})());
    expect(findUnrestorable(state)?.path).toBe('state.m.get("k4242")');
  });

  it('refuse at restore, before any group is built, a slice whose framing does not match its record', async () => {
    const s = await store();
    const m = new DurableMap<string, number>(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    const c = IncrementalCapture.take('op', 1, { state: { m, n: 1 } }, DEFAULT_INCREMENTAL_OPTIONS);
    c.finish();
    const checkpoint = c.checkpoint();
    checkpoint.parts[0]!.counts![0]! += 1; // sealed with a valid checksum: only the layout check sees it
    const builder = new FrameBuilder(recordPieces(checkpoint));
    while (!builder.step(1 << 20)) {}
    await s.saveSnapshot('op', 1, builder.sealed());
    await expect(restore(s, 1)).rejects.toBeInstanceOf(SnapshotCorruptError);
  });

  it('leave state without a DurableMap to the plain snapshot path, encoded as the store would', () => {
    const snapshot = { state: { m: new Map([[1, 2]]) } };
    const capture = IncrementalCapture.take('op', 1, snapshot, SLICED);
    expect(capture.incremental).toBe(false);
    expect(sealEncoded(capture.skeleton).bytes).toEqual(sealState(snapshot, { kind: 'meta', key: 'x' }));
  });

  it('encode a DurableMap outside a checkpoint whole, decoding it as a DurableMap', () => {
    const m = new DurableMap<string, unknown>([
      ['x', 1],
      ['y', { z: [2] }],
    ]);
    const back = decodeState(encodeState({ m })) as { m: DurableMap<string, unknown> };
    expect(back.m).toBeInstanceOf(DurableMap);
    expect([...back.m]).toEqual([...m]);
  });
});
