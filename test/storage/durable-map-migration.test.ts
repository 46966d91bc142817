import { describe, expect, it } from 'vitest';
import { DurableMap, GROUPS, KEY_GROUPS, keyGroupOf } from '../../src/api/durable-map.ts';
import { hashKey } from '../../src/core/hash.ts';
import { encodeState } from '../../src/storage/codec.ts';
import { withCaptureScope } from '../../src/storage/durable-map-codec.ts';
import { FrameBuilder } from '../../src/storage/frame-builder.ts';
import { IncrementalCapture } from '../../src/storage/incremental-capture.ts';
import {
  DEFAULT_INCREMENTAL_OPTIONS,
  type IncrementalRecord,
  recordPieces,
} from '../../src/storage/incremental-record.ts';
import { restoreIncremental } from '../../src/storage/incremental-restore.ts';
import { encodeSlice } from '../../src/storage/map-slice.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';

/*
 * Stores written before key groups hold incremental records whose meta has no `keyGroups` and whose
 * parts list only slice counts: `{ incremental: [{ skeleton, chainFrom, parts: [{ slot, kind, slices,
 * copy }] }, slice, …] }`, each slice mixing keys of every group, in the map's order. Written here as
 * that code wrote them (the skeleton's DurableMap a ['ref', slot, baseWindow, baseSlot, copyWindow,
 * copySlot]), so the migration path is tested against the old layout itself.
 */
function oldRecord(
  window: number,
  chainFrom: number,
  ref: number[],
  part: { kind: 'base' | 'delta'; slices: Uint8Array[]; baseCopy?: Uint8Array[] },
): IncrementalRecord {
  const skeleton = withCaptureScope({ reference: () => ref }, () =>
    encodeState({ state: { m: new DurableMap(), window } }),
  );
  const meta = {
    skeleton,
    chainFrom,
    parts: [{ slot: 0, kind: part.kind, slices: part.slices.length, copy: part.baseCopy?.length ?? 0 }],
  };
  return { incremental: [meta, ...part.slices, ...(part.baseCopy ?? [])] };
}

/** Slices of `per` entries, in order, as the old encoder cut a base. */
function oldSlices(entries: Array<[unknown, unknown]>, per: number): Uint8Array[] {
  const slices: Uint8Array[] = [];
  for (let i = 0; i < entries.length; i += per)
    slices.push(encodeSlice(entries.slice(i, i + per).flat(), []));
  return slices;
}

async function restore(s: MemorySnapshotStore, w: number) {
  const stored = (await s.loadSnapshot('op', w)) as IncrementalRecord;
  const { snapshot, chainFrom } = await restoreIncremental(s, 'op', w, stored);
  return { m: (snapshot as { state: { m: DurableMap<unknown, unknown> } }).state.m, chainFrom };
}

describe('DurableMap stores written before key groups', () => {
  const base: Array<[unknown, unknown]> = [
    ...Array.from({ length: 500 }, (_, i): [unknown, unknown] => [`k${i}`, i]),
    [7, { nested: 'not compact' }],
  ];
  const expected = new Map<unknown, unknown>(base);
  expected.set('k1', -1).set('new', 5).set(8, 'x');
  expected.delete('k2');
  expected.delete(7);

  async function oldStore(): Promise<MemorySnapshotStore> {
    const s = new MemorySnapshotStore();
    await s.open();
    const baseSlices = oldSlices(base, 64);
    await s.saveSnapshot('op', 1, oldRecord(1, 1, [0, 1, 0, -1, -1], { kind: 'base', slices: baseSlices }));
    // The first delta after a base, carrying the base's copy.
    const delta = [encodeSlice(['k1', -1, 'new', 5], ['k2']), encodeSlice([8, 'x'], [7])];
    await s.saveSnapshot(
      'op',
      2,
      oldRecord(2, 1, [0, 1, 0, -1, -1], { kind: 'delta', slices: delta, baseCopy: baseSlices }),
    );
    return s;
  }

  it('restore exactly, base and delta, every key in its key group', async () => {
    const s = await oldStore();
    const { m, chainFrom } = await restore(s, 2);
    expect(chainFrom).toBe(1);
    expect(m[GROUPS].unbuiltCount).toBe(0); // built at once: the old slices mix groups
    expect(m.size).toBe(expected.size);
    expect(new Map(m)).toEqual(expected);
    for (const k of expected.keys()) expect(m.get(k)).toEqual(expected.get(k));
    expect(new Map((await restore(s, 1)).m)).toEqual(new Map(base));
  });

  it('restore from the base copy in the delta when the old base is damaged', async () => {
    const s = await oldStore();
    s.corrupt('op', 1);
    expect(new Map((await restore(s, 2)).m)).toEqual(expected);
  });

  it('write a base in the key-group layout at the next checkpoint, which then restores lazily', async () => {
    const s = await oldStore();
    const { m } = await restore(s, 2);
    m.set('after', 1);
    const now = new Map(expected).set('after', 1);
    const capture = IncrementalCapture.take('op', 3, { state: { m } }, DEFAULT_INCREMENTAL_OPTIONS);
    capture.finish();
    const part = capture.checkpoint().parts[0]!;
    expect(part.kind).toBe('base');
    expect(part.groups!.length).toBe(part.slices.length);
    expect(capture.chainFrom).toBe(3); // no longer reads the old records
    const builder = new FrameBuilder(recordPieces(capture.checkpoint()));
    while (!builder.step(1 << 20)) {}
    await s.saveSnapshot('op', 3, builder.sealed());
    const again = (await restore(s, 3)).m;
    expect(again[GROUPS].unbuiltCount).toBeGreaterThan(0);
    expect(again.size).toBe(now.size);
    expect(new Map(again)).toEqual(now);
  });
});

describe('key groups', () => {
  it('are hashKey modulo KEY_GROUPS, so that a group lies in one partition for every p dividing 840', () => {
    const keys: unknown[] = [0, -0, 1, -1, 2 ** 40, 1.5, Number.NaN, 12n, true, null, undefined, ''];
    for (let i = 0; i < 5000; i++) keys.push(`k${i * 7919}`, `é${i}😀`, i * 1_000_003);
    const wrong = keys.filter((k) => {
      const g = keyGroupOf(k);
      return g !== hashKey(k) % KEY_GROUPS || [2, 3, 5, 7, 8].some((p) => g % p !== hashKey(k) % p);
    });
    expect(wrong).toEqual([]);
  });

  it('put object keys in group 0 (their identity, not their contents, is the key)', () => {
    const key = { a: 1 };
    const m = new DurableMap<object, number>([[key, 1]]);
    key.a = 2; // mutated after insertion: still found
    expect(keyGroupOf(key)).toBe(0);
    expect(m.get(key)).toBe(1);
  });
});
