import { Operator } from '../../src/index.ts';
import { DimensionSpace } from './dimension-space.ts';
import { newSumColumns, type SumColumns, SumIndex } from './keyed-sums.ts';
import type { DimensionBatch, PartialSum, ReadingRanges } from './types.ts';

export interface PrereqAverageProps {
  /** The ranges GenerateDimensions encodes keys with (the size of the key space). Default DEFAULT_RANGES. */
  ranges?: Partial<ReadingRanges>;
}

/**
 * PrereqAverage: the sum and count of cpu, ram and hdd per dimension key (and minute) over an application
 * window, emitted at its end as PartialSums and cleared, so that the snapshots between application
 * windows hold nothing (the case study's advice). Partition it like the source (a parallel or thread
 * stream from GenerateDimensions) and give it `unifier: SumPartials`: each partition sums its own share,
 * the unifiers (cascading with `unifierLimit`) add the partials up, and Average divides.
 */
export class PrereqAverage extends Operator<{ sums: SumColumns }, PrereqAverageProps> {
  readonly out = this.output<PartialSum>();
  readonly in = this.input<DimensionBatch>((b) => this.addBatch(b));
  private index = new SumIndex();

  override initialState() {
    return { sums: newSumColumns() };
  }

  override setup(): void {
    this.index = new SumIndex(new DimensionSpace(this.props.ranges).keyCount);
    this.index.attach(this.state.sums);
  }

  /** The hot path: per dimension tuple, one index load and four adds on typed arrays. */
  private addBatch(b: DimensionBatch): void {
    const index = this.index;
    const c = this.state.sums;
    const dims = b.dimensions;
    const keys = b.keys;
    let cpus = c.cpu;
    let rams = c.ram;
    let hdds = c.hdd;
    let counts = c.count;
    for (let i = 0; i < b.readings; i++) {
      const time = b.time[i]!;
      const slot = index.slot(time);
      const cpu = b.cpu[i]!;
      const ram = b.ram[i]!;
      const hdd = b.hdd[i]!;
      for (let k = i * dims, end = k + dims; k < end; k++) {
        const key = keys[k]!;
        let row = slot[key]! - 1;
        if (row < 0) {
          row = index.row(c, slot, time, key);
          // The columns may have grown.
          cpus = c.cpu;
          rams = c.ram;
          hdds = c.hdd;
          counts = c.count;
        }
        cpus[row]! += cpu;
        rams[row]! += ram;
        hdds[row]! += hdd;
        counts[row]!++;
      }
    }
  }

  override endWindow(): void {
    const c = this.state.sums;
    for (let row = 0; row < c.size; row++) {
      this.out.emit({
        time: c.time[row]!,
        key: c.key[row]!,
        cpu: c.cpu[row]!,
        ram: c.ram[row]!,
        hdd: c.hdd[row]!,
        count: c.count[row]!,
      });
    }
    this.state.sums = this.index.clear(c);
  }
}
