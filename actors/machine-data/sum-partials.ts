import { Operator } from '../../src/index.ts';
import { newSumColumns, type SumColumns, SumIndex } from './keyed-sums.ts';
import type { PartialSum } from './types.ts';

/**
 * The unifier of PrereqAverage (its `unifier` attribute): adds up the partial sums of its inputs per key
 * and minute and emits one PartialSum per key at the end of each window, so the fan-in to Average
 * shrinks at every layer — with `unifierLimit: 8`, 256 partitions go through 32, 4 and 1 of these (the
 * case study's cascading unifier). It needs no properties (unifiers get none): its index widens to the
 * keys it sees. Sums of sums are sums, so it may be cascaded to any depth.
 */
export class SumPartials extends Operator<{ sums: SumColumns }> {
  readonly out = this.output<PartialSum>();
  readonly in = this.input<PartialSum>((p) =>
    this.index.add(this.state.sums, p.time, p.key, p.cpu, p.ram, p.hdd, p.count),
  );
  private index = new SumIndex();

  override initialState() {
    return { sums: newSumColumns() };
  }

  override setup(): void {
    this.index.attach(this.state.sums);
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
