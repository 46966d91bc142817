import type { Reading } from '../machine-data/types.ts';

/**
 * How a `Reading` is stored in a Redis stream entry: one field per property, values as decimal numbers
 * (`XADD readings * customer 3 product 5 os 11 … cpu 71.5 ram 40 hdd 12 minute 607 day 20789`). Flat
 * fields rather than one JSON blob: `redis-cli XADD` writes them by hand, and a missing field is a missing
 * field, not a parse error deep in a string.
 */
export const READING_FIELDS = [
  'customer',
  'product',
  'os',
  'software1',
  'software2',
  'software3',
  'device',
  'cpu',
  'ram',
  'hdd',
  'minute',
  'day',
] as const satisfies readonly (keyof Reading)[];

type Range = { min: number; max: number; integer: boolean };

/** The case study's ranges (apache/apex-malhar examples/machinedata); anything outside is a bad reading. */
export const READING_RANGES: Readonly<Record<keyof Reading, Range>> = {
  customer: { min: 1, max: 5, integer: true },
  product: { min: 4, max: 6, integer: true },
  os: { min: 10, max: 12, integer: true },
  software1: { min: 10, max: 12, integer: true },
  software2: { min: 12, max: 14, integer: true },
  software3: { min: 4, max: 6, integer: true },
  device: { min: 1, max: 50, integer: true },
  cpu: { min: 0, max: 100, integer: false },
  ram: { min: 0, max: 100, integer: false },
  hdd: { min: 0, max: 100, integer: false },
  minute: { min: 0, max: 1439, integer: true },
  day: { min: 0, max: 1_000_000, integer: true },
};

/** A decimal number as a producer writes one: `71.5`, `-0`, `12`, `3.`, `.5`, `1e-3`. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The flat field list for `XADD stream * ...fields`. */
export function readingToFields(r: Reading): string[] {
  const out: string[] = [];
  for (const f of READING_FIELDS) out.push(f, String(r[f]));
  return out;
}

/**
 * Parses a stream entry's flat field list (as XREAD returns it) into a Reading, or returns why it is not
 * one: a missing field, a value that is not a number, or one outside its range. Unknown fields are
 * ignored (a producer may add some).
 */
export function parseReading(fields: readonly string[]): Reading | string {
  const r: Partial<Record<keyof Reading, number>> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as keyof Reading;
    // Own keys only: a field named `constructor` or `__proto__` is an unknown field, ignored like any other.
    if (!Object.hasOwn(READING_RANGES, name)) continue;
    const range = READING_RANGES[name];
    const text = fields[i + 1]!;
    // Decimal only: Number() would also take "0x10", "0b1", "1e2" with spaces around, and "Infinity".
    const v = DECIMAL.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(v)) return `${name}: not a number (${JSON.stringify(text.slice(0, 40))})`;
    if (v < range.min || v > range.max || (range.integer && !Number.isInteger(v))) {
      return `${name}: ${v} outside ${range.min}–${range.max}${range.integer ? ' (an integer)' : ''}`;
    }
    r[name] = v;
  }
  for (const f of READING_FIELDS) if (r[f] === undefined) return `${f}: missing`;
  return r as Reading;
}
