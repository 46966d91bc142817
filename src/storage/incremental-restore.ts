import { DurableMap, deleteUntracked, GROUPS, setUntracked } from '../api/durable-map.ts';
import { decodeState } from './codec.ts';
import { withRestoreScope } from './durable-map-codec.ts';
import { SnapshotCorruptError } from './errors.ts';
import {
  type IncrementalCheckpoint,
  type IncrementalRecord,
  isIncrementalRecord,
  type MapPart,
  readRecord,
} from './incremental-record.ts';
import { LazyGroups } from './lazy-groups.ts';
import { applySlice } from './map-slice.ts';
import { type GroupedSlices, MapTracker, type Slice } from './map-tracker.ts';
import type { SnapshotStore } from './snapshot-store.ts';

type AnyMap = DurableMap<unknown, unknown>;
type Ref = { slot: number; base: [number, number]; copy: [number, number] | undefined };

/**
 * Rebuilds the snapshot an incremental record stands for: decodes its skeleton, and fills each DurableMap
 * from its base and its (cumulative) delta. A base that is missing or damaged is read from its copy in the
 * first checkpoint after it; with neither readable, SnapshotCorruptError (the caller falls back to an
 * older checkpoint, as for any damaged snapshot). The maps come back tracked, ready for the next delta.
 */
export async function restoreIncremental(
  store: SnapshotStore,
  actorId: string,
  window: number,
  record: IncrementalRecord,
): Promise<{ snapshot: unknown; chainFrom: number }> {
  const refs = new Map<number, { map: AnyMap; ref: Ref }>();
  const own = parse(record, actorId, window);
  let snapshot: unknown;
  try {
    snapshot = withRestoreScope({ resolve: (item) => placeholder(refs, item) }, () =>
      decodeState(own.skeleton),
    );
  } catch (err) {
    throw corruptError(actorId, window, 'its skeleton does not decode', err);
  }
  const loaded = new Map<number, IncrementalCheckpoint>([[window, own]]);
  const load = async (w: number): Promise<IncrementalCheckpoint> => {
    let r = loaded.get(w);
    if (r === undefined) {
      const value = await store.loadSnapshot(actorId, w);
      if (!isIncrementalRecord(value)) {
        throw corruptError(actorId, window, `the checkpoint of window ${w} it builds on is missing`);
      }
      r = parse(value, actorId, w);
      loaded.set(w, r);
    }
    return r;
  };
  for (const { map, ref } of refs.values()) {
    const corrupt = (reason: string, cause?: unknown) => corruptError(actorId, window, reason, cause);
    const part = partOf(own, ref.slot, corrupt);
    const tracker = MapTracker.of(map);
    const mine = grouped(part.slices, part.groups, part.counts);
    if (mine === undefined || part.sizes === undefined) {
      // Written before key groups (or with another count of them): built now, key by key, and the next
      // checkpoint writes a base in the current layout (the tracker is left without one).
      const base = part.kind === 'base' ? part.slices : (await baseSlices(load, ref, part, corrupt)).slices;
      apply(map, base, corrupt);
      if (part.kind === 'delta') apply(map, part.slices, corrupt);
      continue;
    }
    const size = part.sizes.reduce((a, b) => a + b, 0);
    tracker.resetChanges(size);
    let base: GroupedSlices;
    if (part.kind === 'base') {
      base = mine;
      tracker.base = [window, ref.slot];
      tracker.baseSlices = mine; // the next checkpoint stores them again, as the copy
    } else {
      const found = await baseSlices(load, ref, part, corrupt);
      if (found.groups === undefined) throw corrupt('its base is not in the key-group layout of its delta');
      base = found as GroupedSlices;
      tracker.unbuiltChanged = mine.counts.reduce((a, b) => a + b, 0); // marked as groups are built
      tracker.written = tracker.unbuiltChanged; // at least this one delta was written since the base
      tracker.base = ref.base;
      tracker.copy = ref.copy ?? [window, ref.slot];
    }
    const lazy = new LazyGroups(tracker, base, part.kind === 'delta' ? mine : undefined, part.sizes, corrupt);
    tracker.restoredSizes = part.sizes;
    tracker.decodedGeneration = tracker.generation;
    map[GROUPS].defer(lazy, lazy.groupsToBuild(), size);
  }
  return { snapshot, chainFrom: own.chainFrom };
}

function placeholder(refs: Map<number, { map: AnyMap; ref: Ref }>, item: unknown[]): AnyMap {
  const [slot, bw, bs, cw, cs] = item as number[];
  const known = refs.get(slot!);
  if (known) return known.map;
  const map = new DurableMap<unknown, unknown>();
  const copy: [number, number] | undefined = cw! >= 0 ? [cw!, cs!] : undefined;
  refs.set(slot!, { map, ref: { slot: slot!, base: [bw!, bs!], copy } });
  return map;
}

type Found = { slices: Slice[]; groups?: number[]; counts?: number[] };

/** The base's slices (with their layout, if it has one): from the base checkpoint, or else from its copy. */
async function baseSlices(
  load: (w: number) => Promise<IncrementalCheckpoint>,
  ref: Ref,
  own: MapPart,
  corrupt: (reason: string) => SnapshotCorruptError,
): Promise<Found> {
  if (own.baseCopy) return copyOf(own);
  try {
    const part = partOf(await load(ref.base[0]), ref.base[1], corrupt);
    if (part.kind !== 'base') throw corrupt(`part ${ref.base[1]} of window ${ref.base[0]} is no base`);
    return { slices: part.slices, groups: part.groups, counts: part.counts };
  } catch (err) {
    if (!(err instanceof SnapshotCorruptError) || ref.copy === undefined) throw err;
    const copy = partOf(await load(ref.copy[0]), ref.copy[1], corrupt);
    if (copy.baseCopy === undefined) throw err;
    return copyOf(copy);
  }
}

function copyOf(part: MapPart): Found {
  return { slices: part.baseCopy!, groups: part.copyGroups, counts: part.copyCounts };
}

/** The slices with their layout, or undefined if they have none (a record from before key groups). */
function grouped(slices: Slice[], groups?: number[], counts?: number[]): GroupedSlices | undefined {
  return groups === undefined || counts === undefined ? undefined : { slices, groups, counts };
}

function parse(record: IncrementalRecord, actorId: string, window: number): IncrementalCheckpoint {
  try {
    return readRecord(record);
  } catch (err) {
    throw corruptError(actorId, window, 'its record is malformed', err);
  }
}

function partOf(c: IncrementalCheckpoint, slot: number, corrupt: (reason: string) => Error): MapPart {
  const part = c.parts[slot];
  if (part?.slot !== slot) throw corrupt(`a part it needs (slot ${slot}) is missing`);
  return part;
}

/** Applies slices to the map, key by key (a record written before key groups). */
function apply(map: AnyMap, slices: Slice[], corrupt: (reason: string, cause?: unknown) => Error): void {
  const set = (k: unknown, v: unknown) => setUntracked(map, k, v);
  const del = (k: unknown) => deleteUntracked(map, k);
  for (const slice of slices) {
    try {
      applySlice(slice, set, del);
    } catch (err) {
      throw corrupt('a slice of a map does not decode', err);
    }
  }
}

function corruptError(
  actorId: string,
  window: number,
  reason: string,
  cause?: unknown,
): SnapshotCorruptError {
  return new SnapshotCorruptError(
    { kind: 'snapshot', actorId, window },
    `incremental checkpoint: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}
