import { DurableMap, deleteUntracked, setUntracked } from '../api/durable-map.ts';
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
import { applySlice } from './map-slice.ts';
import { MapTracker, type Slice } from './map-tracker.ts';
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
    throw corrupt(actorId, window, 'its skeleton does not decode', err);
  }
  const loaded = new Map<number, IncrementalCheckpoint>([[window, own]]);
  const load = async (w: number): Promise<IncrementalCheckpoint> => {
    let r = loaded.get(w);
    if (r === undefined) {
      const value = await store.loadSnapshot(actorId, w);
      if (!isIncrementalRecord(value)) {
        throw corrupt(actorId, window, `the checkpoint of window ${w} it builds on is missing`);
      }
      r = parse(value, actorId, w);
      loaded.set(w, r);
    }
    return r;
  };
  for (const { map, ref } of refs.values()) {
    const part = partOf(own, ref.slot, actorId, window);
    const tracker = MapTracker.of(map);
    if (part.kind === 'base') {
      apply(map, part.slices, actorId, window);
      tracker.base = [window, ref.slot];
      tracker.baseSlices = part.slices; // the next checkpoint stores them again, as the copy
      continue;
    }
    apply(map, await baseSlices(load, ref, part, actorId, window), actorId, window);
    apply(map, part.slices, actorId, window, tracker.changed);
    tracker.written = tracker.changed.size; // at least this one delta was written since the base
    tracker.base = ref.base;
    tracker.copy = ref.copy ?? [window, ref.slot];
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

/** The base's slices: from the base checkpoint, or else from its copy. */
async function baseSlices(
  load: (w: number) => Promise<IncrementalCheckpoint>,
  ref: Ref,
  own: MapPart,
  actorId: string,
  window: number,
): Promise<Slice[]> {
  if (own.baseCopy) return own.baseCopy;
  try {
    const part = partOf(await load(ref.base[0]), ref.base[1], actorId, window);
    if (part.kind !== 'base')
      throw corrupt(actorId, window, `part ${ref.base[1]} of window ${ref.base[0]} is no base`);
    return part.slices;
  } catch (err) {
    if (!(err instanceof SnapshotCorruptError) || ref.copy === undefined) throw err;
    const copy = partOf(await load(ref.copy[0]), ref.copy[1], actorId, window).baseCopy;
    if (copy === undefined) throw err;
    return copy;
  }
}

function parse(record: IncrementalRecord, actorId: string, window: number): IncrementalCheckpoint {
  try {
    return readRecord(record);
  } catch (err) {
    throw corrupt(actorId, window, 'its record is malformed', err);
  }
}

function partOf(c: IncrementalCheckpoint, slot: number, actorId: string, window: number): MapPart {
  const part = c.parts[slot];
  if (part?.slot !== slot) throw corrupt(actorId, window, `a part it needs (slot ${slot}) is missing`);
  return part;
}

/** Applies slices to the map, adding the keys they touch to `touched` if given. */
function apply(map: AnyMap, slices: Slice[], actorId: string, window: number, touched?: Set<unknown>): void {
  const set = touched
    ? (k: unknown, v: unknown) => {
        setUntracked(map, k, v);
        touched.add(k);
      }
    : (k: unknown, v: unknown) => setUntracked(map, k, v);
  const del = (k: unknown) => {
    deleteUntracked(map, k);
    touched?.add(k);
  };
  for (const slice of slices) {
    try {
      applySlice(slice, set, del);
    } catch (err) {
      throw corrupt(actorId, window, 'a slice of a map does not decode', err);
    }
  }
}

function corrupt(actorId: string, window: number, reason: string, cause?: unknown): SnapshotCorruptError {
  return new SnapshotCorruptError(
    { kind: 'snapshot', actorId, window },
    `incremental checkpoint: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}
