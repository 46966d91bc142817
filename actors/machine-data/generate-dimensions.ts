import { Operator, type OperatorContext } from '../../src/index.ts';
import { checkProps } from '../props.ts';
import { combinationMasks, DimensionSpace, resolveRanges, timeOf } from './dimension-space.ts';
import { describeReading, ReadingCheck, readingProblem } from './reading-check.ts';
import type { DimensionBatch, DimensionField, Reading, ReadingError, ReadingRanges } from './types.ts';

export interface GenerateDimensionsProps {
  /** The dimension combinations, as field lists. Default: all 64 subsets of the six dimension fields. */
  combinations?: readonly (readonly DimensionField[])[];
  /** cpu, ram and hdd above it are counted as it (the case study's threshold). Default 90. */
  valueCap?: number;
  /** Ranges of the id and version fields; a reading outside them goes to `errors`. Default DEFAULT_RANGES. */
  ranges?: Partial<ReadingRanges>;
  /** Readings per DimensionBatch (the batch is also emitted at the end of each window). Default 1024. */
  batchReadings?: number;
}

/**
 * GenerateDimensions: one dimension tuple per configured combination of each reading, each keyed with
 * the reading's minute and day, its values capped at `valueCap`. The tuples go out as columns — a
 * DimensionBatch of up to `batchReadings` readings holds, per reading, the six parts its integer keys are
 * sums of and its values, once — never as 64 objects per reading. Readings with missing or out-of-range fields go to `errors` (a
 * ReadingError: connect it to a sink, the dead letters' record and count); they never fail the operator.
 *
 * It keeps no durable state: a pure function of its input, it is recomputed from its input when a recovery
 * needs its output again, and with `replayFrom: 'buffers'` its stream keeps no buffer (a batch takes more
 * bytes than the readings it came from).
 */
export class GenerateDimensions extends Operator<{}, GenerateDimensionsProps> {
  readonly out = this.output<DimensionBatch>();
  readonly errors = this.output<ReadingError>();
  readonly in = this.input<Reading>((r) => this.add(r));

  private ctx!: OperatorContext;
  private space!: DimensionSpace;
  private check!: ReadingCheck;
  private masks = new Int32Array(0);
  private cap = 90;
  private batchReadings = 1024;
  private batch: DimensionBatch | undefined;
  /** Per dimension field: min and weight, read on the hot path. */
  private mins = new Int32Array(6);
  private strides = new Int32Array(6);

  constructor(props?: GenerateDimensionsProps) {
    super(props);
    checkProps('GenerateDimensions', this.props, { valueCap: 'finite', batchReadings: 'positive count' });
    resolveRanges(this.props.ranges);
    combinationMasks(this.props.combinations);
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.space = new DimensionSpace(this.props.ranges);
    this.check = new ReadingCheck(this.space.ranges);
    this.masks = Int32Array.from(combinationMasks(this.props.combinations));
    this.cap = this.props.valueCap ?? 90;
    this.batchReadings = this.props.batchReadings ?? 1024;
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
      this.errors.emit({ window: this.ctx.windowId, reason: problem, reading: describeReading(r) });
      return;
    }
    let b = this.batch;
    if (b === undefined) b = this.batch = newBatch(this.batchReadings, this.masks);
    const i = b.readings++;
    const cap = this.cap;
    b.time[i] = timeOf(r.day, r.minute);
    b.cpu[i] = Math.min(r.cpu, cap);
    b.ram[i] = Math.min(r.ram, cap);
    b.hdd[i] = Math.min(r.hdd, cap);
    const p = b.parts;
    const at = i * 6;
    const mins = this.mins;
    const st = this.strides;
    p[at] = (r.customer - mins[0]! + 1) * st[0]!;
    p[at + 1] = (r.product - mins[1]! + 1) * st[1]!;
    p[at + 2] = (r.os - mins[2]! + 1) * st[2]!;
    p[at + 3] = (r.device - mins[3]! + 1) * st[3]!;
    p[at + 4] = (r.software1 - mins[4]! + 1) * st[4]!;
    p[at + 5] = (r.software2 - mins[5]! + 1) * st[5]!;
    if (b.readings === this.batchReadings) this.flush();
  }

  private flush(): void {
    const b = this.batch;
    if (b === undefined || b.readings === 0) return;
    this.batch = undefined;
    this.out.emit(b.readings === this.batchReadings ? b : trim(b));
  }
}

/** A batch's columns in one buffer (one allocation, not six; the 8-byte columns first, so aligned). */
function newBatch(readings: number, masks: Int32Array): DimensionBatch {
  const buffer = new ArrayBuffer(readings * (3 * 8 + 7 * 4));
  const f64 = readings * 8;
  return {
    readings: 0,
    dimensions: masks.length,
    masks,
    // In the order trim() builds them: one hidden class for PrereqAverage's loop.
    parts: new Int32Array(buffer, 3 * f64, readings * 6),
    time: new Int32Array(buffer, 3 * f64 + readings * 24, readings),
    cpu: new Float64Array(buffer, 0, readings),
    ram: new Float64Array(buffer, f64, readings),
    hdd: new Float64Array(buffer, 2 * f64, readings),
  };
}

/** A part-filled batch without its unused tail (what crosses a mailbox is encoded whole). */
function trim(b: DimensionBatch): DimensionBatch {
  const n = b.readings;
  return {
    readings: n,
    dimensions: b.dimensions,
    masks: b.masks,
    parts: b.parts.slice(0, n * 6),
    time: b.time.slice(0, n),
    cpu: b.cpu.slice(0, n),
    ram: b.ram.slice(0, n),
    hdd: b.hdd.slice(0, n),
  };
}

/**
 * Writes the key of every subset of the six dimension fields of reading i into `keys` (index = mask), one
 * addition each: the key of mask m is the key of m without its highest field plus that field's part.
 */
export function subsetKeys(parts: Int32Array, i: number, keys: Int32Array): void {
  const at = i * 6;
  keys[0] = 0;
  keys[1] = parts[at]!;
  const c1 = parts[at + 1]!;
  const c2 = parts[at + 2]!;
  const c3 = parts[at + 3]!;
  const c4 = parts[at + 4]!;
  const c5 = parts[at + 5]!;
  for (let m = 2; m < 4; m++) keys[m] = keys[m - 2]! + c1;
  for (let m = 4; m < 8; m++) keys[m] = keys[m - 4]! + c2;
  for (let m = 8; m < 16; m++) keys[m] = keys[m - 8]! + c3;
  for (let m = 16; m < 32; m++) keys[m] = keys[m - 16]! + c4;
  for (let m = 32; m < 64; m++) keys[m] = keys[m - 32]! + c5;
}

/** The dimension tuples of a batch as objects (for tests and inspection; never on the hot path). */
export function* dimensionTuples(
  b: DimensionBatch,
): Generator<{ key: number; time: number; cpu: number; ram: number; hdd: number }> {
  const keys = new Int32Array(64);
  for (let i = 0; i < b.readings; i++) {
    subsetKeys(b.parts, i, keys);
    for (let d = 0; d < b.dimensions; d++) {
      yield { key: keys[b.masks[d]!]!, time: b.time[i]!, cpu: b.cpu[i]!, ram: b.ram[i]!, hdd: b.hdd[i]! };
    }
  }
}
