/**
 * The tuples of the machine-data case study (seed 001; apache/apex-malhar examples/machinedata), shared by
 * the operators in this folder, the Redis and SMTP outputs and examples/machine-data.
 *
 * Dimension keys are integers on the hot path (an index into dense arrays); strings appear only at the
 * outputs (`AverageRecord.key`, `Alert.key`), built once per key and window.
 */

/** One device reading, as the case study's InputReceiver produces it. */
export interface Reading {
  customer: number; // 1–5
  product: number; // product version, 4–6
  os: number; // OS version, 10–12
  software1: number; // 10–12
  software2: number; // 12–14
  software3: number; // 4–6
  device: number; // device id, 1–50
  cpu: number; // percent, 0–100
  ram: number;
  hdd: number;
  minute: number; // minute of the day the reading was taken, 0–1439
  day: number; // day number the reading was taken (days since 1970-01-01)
}

/** The fields a dimension combination keeps; absent fields are "any". */
export interface DimensionFields {
  customer?: number;
  product?: number;
  os?: number;
  device?: number;
  software1?: number;
  software2?: number;
}

export type Resource = 'cpu' | 'ram' | 'hdd';

/** Per key and application window: the average usage of each resource, as written to Redis (one hash per key). */
export interface AverageRecord {
  /** Stable string form of fields + day + minute, e.g. `customer=3,os=11|day=20789|minute=607`. */
  key: string;
  fields: DimensionFields;
  day: number;
  minute: number;
  /** The application window this average closes. */
  window: number;
  cpu: number;
  ram: number;
  hdd: number;
  /** Readings averaged. */
  count: number;
}

/** A resource whose average exceeded the alert threshold in one application window. */
export interface Alert {
  key: string;
  fields: DimensionFields;
  day: number;
  minute: number;
  window: number;
  resource: Resource;
  usage: number;
  threshold: number;
}

// ---- Added with the operators (GenerateDimensions … Average): compatible additions only. --------------
// The Redis and SMTP outputs and the line-file input need only Reading, AverageRecord and Alert above;
// what follows are the hot-path tuples between the case-study operators, and the error-port tuple.

/** The fields a dimension combination may keep, in key-encoding order (bit i of a combination mask). */
export const DIMENSION_FIELDS = ['customer', 'product', 'os', 'device', 'software1', 'software2'] as const;
export type DimensionField = (typeof DIMENSION_FIELDS)[number];

/** The reading fields that carry an id or version: each ranges over the integers [min, max]. */
export type RangedField = DimensionField | 'software3';

/** Inclusive integer ranges of the ranged fields (the case study's defaults in DEFAULT_RANGES). */
export type ReadingRanges = Readonly<Record<RangedField, readonly [min: number, max: number]>>;

/**
 * The dimension tuples of up to a batch of readings, as columns (one tuple per batch instead of 64 objects
 * per reading). Reading i contributes `parts[6i + f]` to the key of every combination holding dimension
 * field f (DIMENSION_FIELDS order; the field's digit times its weight, see DimensionSpace), so the key of
 * its dimension tuple d is the sum of its parts over the fields of `masks[d]` — six integers per reading
 * carry all its keys. Every one of its `dimensions` tuples has the reading's `time`
 * (`day * 1440 + minute`) and its capped `cpu`, `ram`, `hdd`. `dimensionTuples(batch)` lists them.
 */
export interface DimensionBatch {
  readings: number;
  /** Dimension tuples per reading (the configured combinations). */
  dimensions: number;
  /** The combinations, as masks over DIMENSION_FIELDS (bit f: field f); `dimensions` of them. */
  masks: Int32Array;
  parts: Int32Array;
  time: Int32Array;
  cpu: Float64Array;
  ram: Float64Array;
  hdd: Float64Array;
}

/** A partial sum of one dimension key in one application window (PrereqAverage → SumPartials → Average). */
export interface PartialSum {
  /** `day * 1440 + minute`. */
  time: number;
  /** The integer dimension key (combination and values). */
  key: number;
  cpu: number;
  ram: number;
  hdd: number;
  count: number;
}

/** A reading refused by GenerateDimensions (the error port): what was wrong, and the reading as JSON. */
export interface ReadingError {
  window: number;
  reason: string;
  reading: string;
}
