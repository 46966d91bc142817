/**
 * The machine-data workload of the case study (seed 001), shared by every variant of the bench so that
 * they all do the same work: the same readings, the same dimension keys, the same sums, the same checksum.
 *
 * Key encoding (one for all variants): an integer, `(customer * DIMENSIONS + d) * VALUES + value`, where
 * d is the dimension combination and value the combination's value; partial sums live in a Map keyed by
 * it. Integer keys are what the bench measures: string keys would be ~6× slower in every variant.
 */

export const CUSTOMERS = 32;
export const PRODUCTS = 8;
export const OSES = 4;
export const SOFTWARES = 16;
/** Dimension combinations per reading: (customer, product), (customer, os), (customer, software), (customer, product, os). */
export const DIMENSIONS = 4;
const VALUES = PRODUCTS * OSES;
export const KEY_ENCODING = 'integer keys in a Map: (customer * 4 + dimension) * 32 + value';

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

  add(key: number, s: Sums): void {
    const cpu = Math.round((s.cpu * 100) / s.count);
    const ram = Math.round((s.ram * 100) / s.count);
    const hdd = Math.round((s.hdd * 100) / s.count);
    const term = ((key + 1) * (cpu * 3 + ram * 5 + hdd * 7)) % MOD;
    this.value = (this.value + term) % MOD;
    this.averages++;
    this.tuples += s.count;
  }

  /** Folds a window's per-key totals in and clears them. */
  addWindow(totals: Map<number, Sums>): void {
    for (const [key, s] of totals) this.add(key, s);
    totals.clear();
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
