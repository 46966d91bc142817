import type { Slice } from './map-tracker.ts';

/*
 * An incremental checkpoint: what an actor whose state holds DurableMaps stores under (actor, window),
 * through the ordinary saveSnapshot (so one record, one CRC frame, one completion marker, written whole).
 *
 *   { incremental: { skeleton, parts, chainFrom } }
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
 */
export type MapPart = {
  slot: number;
  kind: 'base' | 'delta';
  slices: Slice[];
  baseCopy?: Slice[];
};

export type IncrementalRecord = {
  incremental: { skeleton: Uint8Array; parts: MapPart[]; chainFrom: number };
};

export function isIncrementalRecord(value: unknown): value is IncrementalRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    'incremental' in value &&
    typeof (value as IncrementalRecord).incremental === 'object'
  );
}

/** Tunables of incremental checkpoints (defaults below). */
export interface IncrementalOptions {
  /** Entries encoded per slice (one scheduler turn). */
  readonly sliceEntries: number;
  /** A checkpoint with at most this many entries to encode is encoded at once, not in slices. */
  readonly syncEntries: number;
  /** A new base once the keys changed since the base exceed this fraction of the map. */
  readonly baseFraction: number;
}

export const DEFAULT_INCREMENTAL_OPTIONS: IncrementalOptions = {
  sliceEntries: 32_768,
  syncEntries: 32_768,
  baseFraction: 0.5,
};
