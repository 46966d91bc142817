import type { RangedField, Reading, ReadingRanges } from './types.ts';

const RANGED: readonly RangedField[] = [
  'customer',
  'product',
  'os',
  'device',
  'software1',
  'software2',
  'software3',
];
const USAGE = ['cpu', 'ram', 'hdd'] as const;

/**
 * Why a reading cannot be used, or undefined if it can: every ranged field an integer inside its range,
 * cpu/ram/hdd finite percentages in [0, 100], minute an integer in [0, 1439], day a non-negative integer.
 * Out-of-range values would encode as another dimension key (or none), so they are refused, not clamped.
 */
export function readingProblem(r: Reading, ranges: ReadingRanges): string | undefined {
  if (typeof r !== 'object' || r === null) return 'not an object';
  for (const f of RANGED) {
    const v = r[f];
    if (v === undefined || v === null) return `${f} is missing`;
    const [min, max] = ranges[f];
    if (!Number.isInteger(v) || v < min || v > max)
      return `${f} ${String(v)} is not an integer in [${min}, ${max}]`;
  }
  for (const f of USAGE) {
    const v = r[f];
    if (v === undefined || v === null) return `${f} is missing`;
    if (typeof v !== 'number' || !(v >= 0 && v <= 100))
      return `${f} ${String(v)} is not a percentage in [0, 100]`;
  }
  if (r.minute === undefined || r.minute === null) return 'minute is missing';
  if (!Number.isInteger(r.minute) || r.minute < 0 || r.minute > 1439)
    return `minute ${String(r.minute)} is not in [0, 1439]`;
  if (r.day === undefined || r.day === null) return 'day is missing';
  if (!Number.isInteger(r.day) || r.day < 0 || r.day > 1_000_000)
    return `day ${String(r.day)} is not a day number`;
  return undefined;
}

/** The reading as a JSON string for the error port (whatever it holds: a cycle or a BigInt included). */
export function describeReading(r: unknown): string {
  try {
    return JSON.stringify(r) ?? String(r);
  } catch {
    return String(r);
  }
}

/** The hot-path form of readingProblem: a yes/no with every range in a field (the reason only on a no). */
export class ReadingCheck {
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;

  constructor(r: ReadingRanges) {
    this.lo = Int32Array.from(RANGED, (f) => r[f][0]);
    this.hi = Int32Array.from(RANGED, (f) => r[f][1]);
  }

  ok(r: Reading): boolean {
    const lo = this.lo;
    const hi = this.hi;
    return (
      typeof r === 'object' &&
      r !== null &&
      inRange(r.customer, lo[0]!, hi[0]!) &&
      inRange(r.product, lo[1]!, hi[1]!) &&
      inRange(r.os, lo[2]!, hi[2]!) &&
      inRange(r.device, lo[3]!, hi[3]!) &&
      inRange(r.software1, lo[4]!, hi[4]!) &&
      inRange(r.software2, lo[5]!, hi[5]!) &&
      inRange(r.software3, lo[6]!, hi[6]!) &&
      isUsage(r.cpu) &&
      isUsage(r.ram) &&
      isUsage(r.hdd) &&
      inRange(r.minute, 0, 1439) &&
      inRange(r.day, 0, 1_000_000)
    );
  }
}

function inRange(v: unknown, min: number, max: number): boolean {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

function isUsage(v: unknown): boolean {
  return typeof v === 'number' && v >= 0 && v <= 100;
}
