import { Operator } from '../../src/index.ts';
import { DimensionSpace, resolveRanges } from './dimension-space.ts';
import { subsetKeys } from './generate-dimensions.ts';
import type { DimensionBatch, PartialSum, ReadingRanges } from './types.ts';

export interface PrereqAverageProps {
  /** The ranges GenerateDimensions encodes keys with (the size of the key space). Default DEFAULT_RANGES. */
  ranges?: Partial<ReadingRanges>;
}

/**
 * The sums of one minute: for dimension key k, `sums[4k]`, `sums[4k+1]`, `sums[4k+2]` are the cpu, ram and
 * hdd sums and `sums[4k+3]` the count (interleaved: one cache line per update, where four arrays would
 * touch four); `touched[0..touchedCount)` lists the keys with a count, in order of first sight.
 */
export interface MinuteSums {
  time: number;
  sums: Float64Array;
  touched: Int32Array;
  touchedCount: number;
}

/**
 * PrereqAverage: the sum and count of cpu, ram and hdd per dimension key (and minute) over an application
 * window, emitted at its end as PartialSums. Partition it like the source (a parallel or thread stream from
 * GenerateDimensions) and give it `unifier: SumPartials`: each partition sums its own share, the unifiers
 * (cascading with `unifierLimit`) add the partials up, and Average divides.
 *
 * The sums are dense typed arrays indexed by the integer key (the hot path is one load and four adds per
 * dimension tuple, as a hand-written loop's), kept in `this.state` while an application window is open.
 * At its end they are emitted, zeroed (the touched keys only) and taken out of the state into a transient
 * pool for the next window: a checkpoint between application windows holds no sums at all (the case
 * study's advice), one inside a window holds the arrays of the minutes it saw (4 × 8 bytes per key).
 */
export class PrereqAverage extends Operator<{ minutes: MinuteSums[] }, PrereqAverageProps> {
  readonly out = this.output<PartialSum>();
  readonly in = this.input<DimensionBatch>((b) => this.addBatch(b));
  private keyCount = 0;
  private readonly keys = new Int32Array(64);
  private pool: MinuteSums[] = [];

  constructor(props?: PrereqAverageProps) {
    super(props);
    resolveRanges(this.props.ranges);
  }

  override initialState() {
    return { minutes: [] };
  }

  override setup(): void {
    this.keyCount = new DimensionSpace(this.props.ranges).keyCount;
  }

  private addBatch(b: DimensionBatch): void {
    const keys = this.keys;
    const masks = b.masks;
    const dims = b.dimensions;
    // All 64 combinations in mask order (the default): the subset keys are the dimension keys in order.
    const all = dims === 64 && isIdentity(masks);
    let m: MinuteSums | undefined;
    let time = -1;
    let sums: Float64Array = EMPTY;
    let touched: Int32Array = NONE;
    let n = 0;
    for (let i = 0; i < b.readings; i++) {
      const t = b.time[i]!;
      if (t !== time) {
        if (m !== undefined) m.touchedCount = n;
        m = this.minute(t);
        time = t;
        sums = m.sums;
        touched = m.touched;
        n = m.touchedCount;
      }
      const cpu = b.cpu[i]!;
      const ram = b.ram[i]!;
      const hdd = b.hdd[i]!;
      subsetKeys(b.parts, i, keys);
      for (let d = 0; d < dims; d++) {
        const key = all ? keys[d]! : keys[masks[d]!]!;
        const at = key * 4;
        const count = sums[at + 3]!;
        if (count === 0) touched[n++] = key;
        sums[at]! += cpu;
        sums[at + 1]! += ram;
        sums[at + 2]! += hdd;
        sums[at + 3] = count + 1;
      }
    }
    if (m !== undefined) m.touchedCount = n;
  }

  /** The sums of minute `time` in the state, from the pool (or new) at its first tuple in the window. */
  private minute(time: number): MinuteSums {
    const minutes = this.state.minutes;
    for (const m of minutes) if (m.time === time) return m;
    const m = this.pool.pop() ?? {
      time,
      sums: new Float64Array(this.keyCount * 4),
      touched: new Int32Array(this.keyCount),
      touchedCount: 0,
    };
    m.time = time;
    minutes.push(m);
    return m;
  }

  override endWindow(): void {
    for (const m of this.state.minutes) {
      const { time, sums, touched } = m;
      for (let i = 0; i < m.touchedCount; i++) {
        const key = touched[i]!;
        const at = key * 4;
        this.out.emit({
          time,
          key,
          cpu: sums[at]!,
          ram: sums[at + 1]!,
          hdd: sums[at + 2]!,
          count: sums[at + 3]!,
        });
        sums.fill(0, at, at + 4);
      }
      m.touchedCount = 0;
      if (this.pool.length < 2) this.pool.push(m);
    }
    this.state.minutes = [];
  }
}

function isIdentity(masks: Int32Array): boolean {
  for (let d = 0; d < masks.length; d++) if (masks[d] !== d) return false;
  return true;
}

const EMPTY = new Float64Array(0);
const NONE = new Int32Array(0);
