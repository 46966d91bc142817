/**
 * The case study itself, as the headline bench measures it (seed 001, examples/machine-data): readings from
 * the case study's generator (every field drawn independently, so all 78,336 dimension keys occur), 64
 * dimension combinations per reading, values capped at 90, averages per key over application windows of
 * 10 streaming windows, an alert per resource above 70. Every variant — the sluice operators of
 * actors/machine-data at several localities, stream.pipeline around the same operators, a hand-written loop —
 * ends in the same AverageRecords and Alerts, folded into one RecordChecksum, so they can be compared.
 */
import type { Alert, AverageRecord } from '../actors/machine-data/types.ts';

export const MD_DIMENSIONS = 64;
/** The readings of the run: the case study generator's defaults, seed 1. */
export const MD_SEED = 1;
/**
 * Every reading is stamped with this minute and day: window w starts at `MD_TIME_ORIGIN_MS + (w − 1)`
 * (a streaming window of 1 nominal ms on virtual time), so all windows of a run fall in one minute and every
 * variant sees the same keys.
 */
export const MD_TIME_ORIGIN_MS = Date.UTC(2026, 0, 5, 10, 0, 0);
export const MD_MINUTE = 600;
export const MD_DAY = Math.floor(MD_TIME_ORIGIN_MS / 86_400_000);

export interface MdWorkload {
  /** Streaming windows (a multiple of applicationWindowCount: a partial application window emits nothing). */
  readonly windows: number;
  readonly readingsPerWindow: number;
  readonly applicationWindowCount: number;
}

export function mdReadings(w: MdWorkload): number {
  return w.windows * w.readingsPerWindow;
}

const MOD = 1_000_000_007;

/**
 * An order-independent checksum of AverageRecords and Alerts (a sum modulo a prime of one term each), so
 * that variants may emit keys in any order. `tuples` adds up the records' counts: every dimension tuple
 * of every reading, once.
 */
export class RecordChecksum {
  value = 0;
  records = 0;
  alerts = 0;
  tuples = 0;

  addRecord(r: AverageRecord): void {
    const term =
      (hash(r.key) * 31 + r.window * 7 + r.cpu * 100 * 3 + r.ram * 100 * 5 + r.hdd * 100 * 11) % MOD;
    this.value = (this.value + Math.round(term)) % MOD;
    this.records++;
    this.tuples += r.count;
  }

  addAlert(a: Alert): void {
    const term = (hash(a.key) * 17 + hash(a.resource) + a.window + Math.round(a.usage * 100)) % MOD;
    this.value = (this.value + term) % MOD;
    this.alerts++;
  }

  /** Adds another checksum's terms (a window's, folded in once the window is applied). */
  merge(o: RecordChecksum): void {
    this.value = (this.value + o.value) % MOD;
    this.records += o.records;
    this.alerts += o.alerts;
    this.tuples += o.tuples;
  }

  toString(): string {
    return `${this.value}:${this.records}:${this.alerts}:${this.tuples}`;
  }
}

/** FNV-1a over the string's UTF-16 units, as a non-negative 31-bit number. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 1) % MOD;
}
