import { Operator, type OperatorContext } from '../../src/index.ts';
import { combinationMasks, DimensionSpace, timeOf } from './dimension-space.ts';
import { describeReading, ReadingCheck, readingProblem } from './reading-check.ts';
import type { DimensionBatch, DimensionField, Reading, ReadingError, ReadingRanges } from './types.ts';

export interface GenerateDimensionsProps {
  /** The dimension combinations, as field lists. Default: all 64 subsets of the six dimension fields. */
  combinations?: readonly (readonly DimensionField[])[];
  /** cpu, ram and hdd above it are counted as it (the case study's threshold). Default 90. */
  valueCap?: number;
  /** Ranges of the id and version fields; a reading outside them goes to `errors`. Default DEFAULT_RANGES. */
  ranges?: Partial<ReadingRanges>;
  /** Readings per DimensionBatch (the batch is also emitted at the end of each window). Default 256. */
  batchReadings?: number;
}

/**
 * GenerateDimensions: one dimension tuple per configured combination of each reading, each keyed with
 * the reading's minute and day, its values capped at `valueCap`. The tuples go out as columns — a
 * DimensionBatch of up to `batchReadings` readings holds each reading's integer keys and its values once
 * — never as 64 objects per reading. Readings with missing or out-of-range fields go to `errors` (a
 * ReadingError) and are counted in `state.deadLetters`; they never fail the operator.
 */
export class GenerateDimensions extends Operator<{ deadLetters: number }, GenerateDimensionsProps> {
  readonly out = this.output<DimensionBatch>();
  readonly errors = this.output<ReadingError>();
  readonly in = this.input<Reading>((r) => this.add(r));

  private ctx!: OperatorContext;
  private space!: DimensionSpace;
  private check!: ReadingCheck;
  private masks: number[] = [];
  /** True when the combinations are all 64 masks in order: the subset sums are the keys themselves. */
  private identity = false;
  private cap = 90;
  private batchReadings = 256;
  private batch: DimensionBatch | undefined;
  /** Per dimension field: min and stride, read on the hot path. */
  private mins = new Int32Array(6);
  private strides = new Int32Array(6);
  private subsets = new Int32Array(64);

  override initialState() {
    return { deadLetters: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.space = new DimensionSpace(this.props.ranges);
    this.check = new ReadingCheck(this.space.ranges);
    this.masks = combinationMasks(this.props.combinations);
    this.identity = this.masks.length === 64 && this.masks.every((m, i) => m === i);
    this.cap = this.props.valueCap ?? 90;
    this.batchReadings = this.props.batchReadings ?? 256;
    const r = this.space.ranges;
    this.mins = Int32Array.from([
      r.customer[0],
      r.product[0],
      r.os[0],
      r.device[0],
      r.software1[0],
      r.software2[0],
    ]);
    this.strides = Int32Array.from(this.space.strides);
  }

  override endWindow(): void {
    this.flush();
  }

  private add(r: Reading): void {
    if (!this.check.ok(r)) {
      const problem = readingProblem(r, this.space.ranges) ?? 'invalid';
      this.state.deadLetters++;
      this.errors.emit({ window: this.ctx.windowId, reason: problem, reading: describeReading(r) });
      return;
    }
    let b = this.batch;
    if (b === undefined) b = this.batch = newBatch(this.batchReadings, this.masks.length);
    const i = b.readings++;
    const cap = this.cap;
    b.time[i] = timeOf(r.day, r.minute);
    b.cpu[i] = Math.min(r.cpu, cap);
    b.ram[i] = Math.min(r.ram, cap);
    b.hdd[i] = Math.min(r.hdd, cap);
    this.writeKeys(r, b.keys, i * b.dimensions);
    if (b.readings === this.batchReadings) this.flush();
  }

  /**
   * The key of every subset of the six fields by one addition each (the key of mask m is the key of m
   * without its lowest bit plus that field's digit), then the configured combinations picked from them.
   */
  private writeKeys(r: Reading, keys: Int32Array, at: number): void {
    const mins = this.mins;
    const st = this.strides;
    const c0 = (r.customer - mins[0]! + 1) * st[0]!;
    const c1 = (r.product - mins[1]! + 1) * st[1]!;
    const c2 = (r.os - mins[2]! + 1) * st[2]!;
    const c3 = (r.device - mins[3]! + 1) * st[3]!;
    const c4 = (r.software1 - mins[4]! + 1) * st[4]!;
    const c5 = (r.software2 - mins[5]! + 1) * st[5]!;
    const s = this.identity ? keys : this.subsets;
    const o = this.identity ? at : 0;
    s[o] = 0;
    s[o + 1] = c0;
    for (let m = o + 2; m < o + 4; m++) s[m] = s[m - 2]! + c1;
    for (let m = o + 4; m < o + 8; m++) s[m] = s[m - 4]! + c2;
    for (let m = o + 8; m < o + 16; m++) s[m] = s[m - 8]! + c3;
    for (let m = o + 16; m < o + 32; m++) s[m] = s[m - 16]! + c4;
    for (let m = o + 32; m < o + 64; m++) s[m] = s[m - 32]! + c5;
    if (this.identity) return;
    const masks = this.masks;
    for (let d = 0; d < masks.length; d++) keys[at + d] = s[masks[d]!]!;
  }

  private flush(): void {
    const b = this.batch;
    if (b === undefined || b.readings === 0) return;
    this.batch = undefined;
    this.out.emit(b.readings === this.batchReadings ? b : trim(b));
  }
}

function newBatch(readings: number, dimensions: number): DimensionBatch {
  return {
    readings: 0,
    dimensions,
    keys: new Int32Array(readings * dimensions),
    time: new Int32Array(readings),
    cpu: new Float64Array(readings),
    ram: new Float64Array(readings),
    hdd: new Float64Array(readings),
  };
}

/** A part-filled batch without its unused tail (what crosses a mailbox is encoded whole). */
function trim(b: DimensionBatch): DimensionBatch {
  const n = b.readings;
  return {
    readings: n,
    dimensions: b.dimensions,
    keys: b.keys.slice(0, n * b.dimensions),
    time: b.time.slice(0, n),
    cpu: b.cpu.slice(0, n),
    ram: b.ram.slice(0, n),
    hdd: b.hdd.slice(0, n),
  };
}

/** The dimension tuples of a batch as objects (for tests and inspection; never on the hot path). */
export function* dimensionTuples(
  b: DimensionBatch,
): Generator<{ key: number; time: number; cpu: number; ram: number; hdd: number }> {
  for (let i = 0; i < b.readings; i++) {
    for (let d = 0; d < b.dimensions; d++) {
      yield {
        key: b.keys[i * b.dimensions + d]!,
        time: b.time[i]!,
        cpu: b.cpu[i]!,
        ram: b.ram[i]!,
        hdd: b.hdd[i]!,
      };
    }
  }
}
