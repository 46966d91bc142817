import { SluiceError } from '../../src/index.ts';
import { DIMENSION_FIELDS, type DimensionField, type DimensionFields, type ReadingRanges } from './types.ts';

/** The case study's ranges (apex-malhar examples/machinedata). */
export const DEFAULT_RANGES: ReadingRanges = {
  customer: [1, 5],
  product: [4, 6],
  os: [10, 12],
  device: [1, 50],
  software1: [10, 12],
  software2: [12, 14],
  software3: [4, 6],
};

/** Every subset of the six dimension fields, as masks 0..63 (bit i: DIMENSION_FIELDS[i]). */
export const ALL_COMBINATIONS: readonly number[] = Array.from(
  { length: 1 << DIMENSION_FIELDS.length },
  (_, m) => m,
);

/** A property of a machine-data operator that cannot work (an empty range, an unknown field). */
export class MachineDataConfigError extends SluiceError {
  readonly restartable = false;
  constructor(message: string) {
    super('SLUICE_MACHINE_DATA_CONFIG', message);
  }
}

/** The ranges with the defaults filled in, checked. */
export function resolveRanges(ranges: Partial<ReadingRanges> | undefined): ReadingRanges {
  const r = { ...DEFAULT_RANGES, ...ranges };
  for (const [field, [min, max]] of Object.entries(r)) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) {
      throw new MachineDataConfigError(
        `range of ${field}: [${min}, ${max}] is not a non-empty integer range`,
      );
    }
  }
  return r;
}

/** Combinations given as field lists (`[['customer'], ['customer', 'os']]`) → masks; default all 64. */
export function combinationMasks(combinations: readonly (readonly DimensionField[])[] | undefined): number[] {
  if (combinations === undefined) return [...ALL_COMBINATIONS];
  return combinations.map((fields) => {
    let mask = 0;
    for (const f of fields) {
      const i = DIMENSION_FIELDS.indexOf(f);
      if (i < 0)
        throw new MachineDataConfigError(
          `unknown dimension field "${f}" (one of ${DIMENSION_FIELDS.join(', ')})`,
        );
      mask |= 1 << i;
    }
    return mask;
  });
}

/**
 * The dense integer encoding of a dimension key: a mixed-radix number with one digit per dimension field,
 * 0 for "any" (the field is not in the combination) and `value - min + 1` otherwise. So one integer in
 * [0, keyCount) names both the combination and its values, and can index typed arrays; with the case
 * study's ranges keyCount = 6·4·4·51·4·4 = 78,336. Strings are built only at the outputs (`keyString`).
 */
export class DimensionSpace {
  readonly ranges: ReadingRanges;
  /** Per dimension field: the digit's weight and radix (range size + 1). */
  readonly strides: readonly number[];
  readonly radixes: readonly number[];
  readonly keyCount: number;

  constructor(ranges?: Partial<ReadingRanges>) {
    this.ranges = resolveRanges(ranges);
    const strides: number[] = [];
    const radixes: number[] = [];
    let stride = 1;
    for (const f of DIMENSION_FIELDS) {
      const [min, max] = this.ranges[f];
      strides.push(stride);
      radixes.push(max - min + 2);
      stride *= max - min + 2;
    }
    if (stride > 2 ** 31)
      throw new MachineDataConfigError(`ranges give ${stride} dimension keys: more than 2^31`);
    this.strides = strides;
    this.radixes = radixes;
    this.keyCount = stride;
  }

  /** The key of one combination of a reading's fields (in range: see validateReading). */
  encode(mask: number, fields: Readonly<Record<DimensionField, number>>): number {
    let key = 0;
    DIMENSION_FIELDS.forEach((f, i) => {
      if (mask & (1 << i)) key += (fields[f] - this.ranges[f][0] + 1) * this.strides[i]!;
    });
    return key;
  }

  /** The fields a key keeps (absent ones are "any"). */
  decode(key: number): DimensionFields {
    // A plain loop (no closure per call): Average decodes every key of every application window.
    const fields: DimensionFields = {};
    for (let i = 0; i < DIMENSION_FIELDS.length; i++) {
      const f = DIMENSION_FIELDS[i]!;
      const digit = Math.floor(key / this.strides[i]!) % this.radixes[i]!;
      if (digit > 0) fields[f] = this.ranges[f][0] + digit - 1;
    }
    return fields;
  }

  /** The combination mask of a key. */
  maskOf(key: number): number {
    let mask = 0;
    DIMENSION_FIELDS.forEach((_, i) => {
      if (Math.floor(key / this.strides[i]!) % this.radixes[i]! > 0) mask |= 1 << i;
    });
    return mask;
  }
}

/** `customer=3,os=11|day=20789|minute=607`; a key with no field (all readings) is `*|day=…|minute=…`. */
export function keyString(fields: DimensionFields, day: number, minute: number): string {
  // Concatenated, not an array joined: one string per key and application window, 78,336 of them.
  let s = '';
  for (let i = 0; i < DIMENSION_FIELDS.length; i++) {
    const f = DIMENSION_FIELDS[i]!;
    const v = fields[f];
    if (v !== undefined) s = s === '' ? `${f}=${v}` : `${s},${f}=${v}`;
  }
  return `${s === '' ? '*' : s}|day=${day}|minute=${minute}`;
}

export const MINUTES_PER_DAY = 1440;

/** `day * 1440 + minute`, the time a dimension key carries on the hot path. */
export function timeOf(day: number, minute: number): number {
  return day * MINUTES_PER_DAY + minute;
}

export function dayOf(time: number): number {
  return Math.floor(time / MINUTES_PER_DAY);
}

export function minuteOf(time: number): number {
  return time % MINUTES_PER_DAY;
}
