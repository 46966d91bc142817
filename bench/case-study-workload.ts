/**
 * The machine-data workload of the case study (seed 001), shared by every variant of the bench so that
 * they all do the same work: the same readings, the same dimension keys, the same sums, the same checksum.
 *
 * The dimension key is one small dense integer, `(customer * DIMENSIONS + d) * VALUES + value` in
 * [0, KEYS), where d is the dimension combination and value the combination's value. Two encodings of
 * the per-key sums, chosen with `--keys` and the same in every variant of a run:
 *
 * - `typed` (default): the key indexes preallocated columns (`Float64Array` sums, `Uint32Array` counts);
 *   a list of the keys touched in the window says what to emit or fold at the window's end and reset.
 * - `map`: a `Map<number, Sums>` of small objects, cleared at the window's end.
 *
 * String keys (`'c7/os/2'`) would be slower again in every variant and hide the framework's cost behind
 * string hashing; the bench does not offer them.
 */

export const CUSTOMERS = 32;
export const PRODUCTS = 8;
export const OSES = 4;
export const SOFTWARES = 16;
/** Dimension combinations per reading: (customer, product), (customer, os), (customer, software), (customer, product, os). */
export const DIMENSIONS = 4;
const VALUES = PRODUCTS * OSES;
/** Distinct dimension keys: every key is an integer in [0, KEYS). */
export const KEYS = CUSTOMERS * DIMENSIONS * VALUES;

/**
 * Readings per window in every section. Virtual time closes a window after 64 emitTuples() rounds: the
 * receiver emits a window's readings in 32 calls of 1024, well inside it (a window cut short would show
 * as a checksum mismatch).
 */
export const READINGS_PER_WINDOW = 32 * 1024;

export type KeyEncoding = 'typed' | 'map';
export const KEY_ENCODINGS: readonly KeyEncoding[] = ['typed', 'map'];

export const KEY_ENCODING_DESCRIPTION: Readonly<Record<KeyEncoding, string>> = {
  typed: `typed arrays: key (customer * 4 + dimension) * 32 + value < ${KEYS} indexes Float64Array sums and Uint32Array counts, touched keys listed`,
  map: 'integer keys in a Map: (customer * 4 + dimension) * 32 + value → { cpu, ram, hdd, count }',
};

export interface Reading {
  readonly customer: number;
  readonly product: number;
  readonly os: number;
  readonly software: number;
  readonly cpu: number;
  readonly ram: number;
  readonly hdd: number;
}

/** One dimension combination of a reading. */
export interface Dimensioned {
  readonly key: number;
  readonly cpu: number;
  readonly ram: number;
  readonly hdd: number;
}

/** Sums of one key (a plain object, so that it checkpoints as it is). */
export interface Sums {
  cpu: number;
  ram: number;
  hdd: number;
  count: number;
}

/** What PrereqAverage emits at endWindow: the partial sums of one key. */
export interface PartialSum extends Sums {
  readonly key: number;
}

const SEED = 0x5eed_001;

/** The reading number `seq` of the stream: a pure function of a counter (no Math.random). */
export function readingAt(seq: number): Reading {
  const a = mix(seq ^ SEED);
  const b = mix(a ^ seq);
  return {
    customer: a & (CUSTOMERS - 1),
    product: (a >>> 5) & (PRODUCTS - 1),
    os: (a >>> 8) & (OSES - 1),
    software: (a >>> 10) & (SOFTWARES - 1),
    cpu: (b & 0xffff) % 101,
    ram: (b >>> 16) % 101,
    hdd: (a >>> 14) % 101,
  };
}

/** The integer key of dimension combination d (0 ≤ d < DIMENSIONS) of a reading. */
export function dimensionKey(r: Reading, d: number): number {
  let value: number;
  if (d === 0) value = r.product;
  else if (d === 1) value = r.os;
  else if (d === 2) value = r.software;
  else value = r.product * OSES + r.os;
  return (r.customer * DIMENSIONS + d) * VALUES + value;
}

// ---- encoding `map` -------------------------------------------------------------------------------

/** Adds to the sums of `key`, creating them on first sight. */
export function addTo(
  sums: Map<number, Sums>,
  key: number,
  cpu: number,
  ram: number,
  hdd: number,
  count: number,
) {
  const s = sums.get(key);
  if (s === undefined) {
    sums.set(key, { cpu, ram, hdd, count });
    return;
  }
  s.cpu += cpu;
  s.ram += ram;
  s.hdd += hdd;
  s.count += count;
}

// ---- encoding `typed` -----------------------------------------------------------------------------

/**
 * Per-key sums as columns indexed by the key, plus the keys touched since the last reset (in order of
 * first touch, as a Map's insertion order). A plain object of typed arrays, so that it can live in
 * `this.state`: cbor-x encodes typed arrays as tagged byte strings and decodes them as the same class.
 */
export interface TypedSums {
  cpu: Float64Array;
  ram: Float64Array;
  hdd: Float64Array;
  count: Uint32Array;
  touched: Uint16Array;
  touchedCount: number;
}

export function newTypedSums(): TypedSums {
  return {
    cpu: new Float64Array(KEYS),
    ram: new Float64Array(KEYS),
    hdd: new Float64Array(KEYS),
    count: new Uint32Array(KEYS),
    touched: new Uint16Array(KEYS),
    touchedCount: 0,
  };
}

/** Adds to the sums of `key` (count > 0), listing the key as touched on first sight. */
export function addToTyped(s: TypedSums, key: number, cpu: number, ram: number, hdd: number, count: number) {
  const c = s.count[key]!;
  if (c === 0) s.touched[s.touchedCount++] = key;
  s.count[key] = c + count;
  s.cpu[key]! += cpu;
  s.ram[key]! += ram;
  s.hdd[key]! += hdd;
}

/** Zeroes the touched keys only (not the whole columns) and empties the touched list. */
export function resetTyped(s: TypedSums): void {
  const { touched, cpu, ram, hdd, count } = s;
  for (let i = 0; i < s.touchedCount; i++) {
    const k = touched[i]!;
    cpu[k] = 0;
    ram[k] = 0;
    hdd[k] = 0;
    count[k] = 0;
  }
  s.touchedCount = 0;
}

// ---- checksum -------------------------------------------------------------------------------------

const MOD = 1_000_000_007;

/**
 * A checksum of the averages of every key of every window. Order-independent (a sum modulo a prime of
 * integer terms), so variants may visit keys in any order; averages are rounded to 1/100.
 */
export class AverageChecksum {
  value = 0;
  /** (window, key) averages folded in. */
  averages = 0;
  /** Dimension tuples behind them (the sum of the counts). */
  tuples = 0;
  /** Windows applied (a fence for replays: a window at or below it is not folded in again). */
  lastWindow = 0;

  add(key: number, cpuSum: number, ramSum: number, hddSum: number, count: number): void {
    const cpu = Math.round((cpuSum * 100) / count);
    const ram = Math.round((ramSum * 100) / count);
    const hdd = Math.round((hddSum * 100) / count);
    const term = ((key + 1) * (cpu * 3 + ram * 5 + hdd * 7)) % MOD;
    this.value = (this.value + term) % MOD;
    this.averages++;
    this.tuples += count;
  }

  /** Folds a window's per-key totals in and clears them. */
  addWindow(totals: Map<number, Sums>): void {
    for (const [key, s] of totals) this.add(key, s.cpu, s.ram, s.hdd, s.count);
    totals.clear();
  }

  /** Folds a window's per-key totals in and resets them. */
  addWindowTyped(totals: TypedSums): void {
    const { touched, cpu, ram, hdd, count } = totals;
    for (let i = 0; i < totals.touchedCount; i++) {
      const k = touched[i]!;
      this.add(k, cpu[k]!, ram[k]!, hdd[k]!, count[k]!);
    }
    resetTyped(totals);
  }

  toString(): string {
    return `${this.value}:${this.averages}:${this.tuples}`;
  }
}

/** How much a run processes: `windows` windows of `readingsPerWindow` readings. */
export interface Workload {
  readonly windows: number;
  readonly readingsPerWindow: number;
}

export function totalReadings(w: Workload): number {
  return w.windows * w.readingsPerWindow;
}

function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}
