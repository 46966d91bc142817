import { KEY_GROUPS } from '../api/durable-map.ts';
import { encodeState } from './codec.ts';
import { cborHead } from './frame-builder.ts';
import type { Slice } from './map-tracker.ts';

/*
 * An incremental checkpoint: what an actor whose state holds DurableMaps stores under (actor, window),
 * through the ordinary saveSnapshot (so one record, one CRC frame, one completion marker, written whole).
 *
 * - skeleton: the CBOR of the actor's snapshot ({ state, carry }) with each DurableMap replaced by a
 *   reference ['ref', slot, baseWindow, baseSlot, copyWindow, copySlot] (copy -1, -1: none yet);
 * - parts[slot]: that map's contents in this checkpoint, in slices ([sets, deletes] each):
 *     base  — the whole map;
 *     delta — every key changed since the base, with its value now (or deleted): cumulative, so a
 *             restore reads the base and this one delta, never a chain;
 *     the first delta after a base also carries `baseCopy`, a second copy of the base's slices, so a
 *     single damaged record never loses a base that both kept checkpoint generations need;
 * - chainFrom: the oldest window this checkpoint reads (the oldest base): commit cleanup keeps it.
 *
 * Stored as the CBOR `{ incremental: [meta, slice, slice, …] }`: meta holds the skeleton, chainFrom,
 * `keyGroups` (KEY_GROUPS) and per part its slot, kind, slice counts and key-group layout (each slice's
 * group and entry count, each group's size); the slices follow as byte strings, in part order (slices,
 * then baseCopy). Every piece is CBOR already, so a frame is assembled by copying (frame-builder.ts).
 * A part's slices hold one key group each, in group order, so that a restore can leave each group
 * unbuilt until it is used (lazy-groups.ts). Records written before key groups have no layout: their
 * maps are restored key by key, and the next checkpoint writes a base in the layout.
 */
export type MapPart = {
  slot: number;
  kind: 'base' | 'delta';
  slices: Slice[];
  /**
   * Key-grouped layout (every record written since key groups): slice i holds only keys of group
   * `groups[i]` and `counts[i]` entries; `sizes[g]`: group g's size at the checkpoint. Absent in records
   * written before: their slices mix groups (restored by rehashing every key).
   */
  groups?: number[];
  counts?: number[];
  sizes?: number[];
  baseCopy?: Slice[];
  copyGroups?: number[];
  copyCounts?: number[];
};

export type IncrementalCheckpoint = { skeleton: Uint8Array; chainFrom: number; parts: MapPart[] };

/** An incremental checkpoint as the store decodes it. */
export type IncrementalRecord = { incremental: unknown[] };

type Meta = {
  skeleton: Uint8Array;
  chainFrom: number;
  /** KEY_GROUPS when written (absent before key groups). */
  keyGroups?: number;
  parts: Array<{
    slot: number;
    kind: 'base' | 'delta';
    slices: number;
    copy: number;
    groups?: number[];
    counts?: number[];
    sizes?: number[];
    copyGroups?: number[];
    copyCounts?: number[];
  }>;
};

export function isIncrementalRecord(value: unknown): value is IncrementalRecord {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as IncrementalRecord).incremental)
  );
}

const KEY = new TextEncoder().encode('incremental');

/** The CBOR of the record, in pieces to copy into a frame. */
export function recordPieces(c: IncrementalCheckpoint): Uint8Array[] {
  const meta: Meta = {
    skeleton: c.skeleton,
    chainFrom: c.chainFrom,
    keyGroups: KEY_GROUPS,
    parts: c.parts.map((p) => ({
      slot: p.slot,
      kind: p.kind,
      slices: p.slices.length,
      copy: p.baseCopy?.length ?? 0,
      groups: p.groups,
      counts: p.counts,
      sizes: p.sizes,
      ...(p.baseCopy ? { copyGroups: p.copyGroups, copyCounts: p.copyCounts } : {}),
    })),
  };
  const slices = c.parts.flatMap((p) => [...p.slices, ...(p.baseCopy ?? [])]);
  const pieces = [cborHead(5, 1), cborHead(3, KEY.length), KEY, cborHead(4, 1 + slices.length)];
  pieces.push(encodeState(meta));
  for (const slice of slices) pieces.push(cborHead(2, slice.length), slice);
  return pieces;
}

/**
 * The checkpoint a stored record holds; TypeError if it is not shaped as recordPieces writes. Parts of
 * a record written with another KEY_GROUPS lose their layout (restored as records before key groups).
 */
export function readRecord(record: IncrementalRecord): IncrementalCheckpoint {
  const [meta, ...slices] = record.incremental as [Meta, ...Slice[]];
  if (!(meta?.skeleton instanceof Uint8Array) || !Array.isArray(meta.parts))
    throw new TypeError('an incremental record without its meta');
  let next = 0;
  const take = (n: number): Slice[] => {
    const taken = slices.slice(next, next + n);
    next += n;
    if (taken.length !== n || !taken.every((s) => s instanceof Uint8Array))
      throw new TypeError('an incremental record with fewer slices than its meta lists');
    return taken;
  };
  const grouped = meta.keyGroups === KEY_GROUPS;
  const parts = meta.parts.map((p): MapPart => {
    const part: MapPart = { slot: p.slot, kind: p.kind, slices: take(p.slices) };
    if (grouped && p.groups !== undefined) {
      part.groups = layout(p.groups, p.slices, KEY_GROUPS);
      part.counts = layout(p.counts, p.slices);
      part.sizes = layout(p.sizes, KEY_GROUPS);
    }
    // An empty base's copy has no slices, only its (empty) layout: still a copy, which a restore
    // needs when that base is damaged.
    if (p.copy > 0 || p.copyGroups !== undefined) {
      part.baseCopy = take(p.copy);
      if (grouped && p.copyGroups !== undefined) {
        part.copyGroups = layout(p.copyGroups, p.copy, KEY_GROUPS);
        part.copyCounts = layout(p.copyCounts, p.copy);
      }
    }
    return part;
  });
  return { skeleton: meta.skeleton, chainFrom: meta.chainFrom, parts };
}

/** A layout array checked: `length` non-negative integers, each below `bound` if given. */
function layout(a: unknown, length: number, bound = Number.POSITIVE_INFINITY): number[] {
  if (!Array.isArray(a) || a.length !== length)
    throw new TypeError('an incremental record whose key-group layout does not match its slices');
  for (const x of a)
    if (!Number.isInteger(x) || x < 0 || x >= bound)
      throw new TypeError('an incremental record with a key-group layout out of range');
  return a as number[];
}

/** Tunables of incremental checkpoints (defaults below). */
export interface IncrementalOptions {
  /** Entries encoded per slice (one scheduler turn). */
  readonly sliceEntries: number;
  /** A checkpoint with at most this many entries to encode is encoded at once, not in slices. */
  readonly syncEntries: number;
  /** Bytes of a large record's frame assembled per scheduler turn. */
  readonly frameBytesPerTurn: number;
  /** A new base once the keys changed since the base exceed this fraction of the map. */
  readonly baseFraction: number;
}

export const DEFAULT_INCREMENTAL_OPTIONS: IncrementalOptions = {
  sliceEntries: 8_192,
  syncEntries: 8_192,
  baseFraction: 0.5,
  frameBytesPerTurn: 1 << 20,
};
