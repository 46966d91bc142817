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
