/**
 * The test kit's application on containers: 2 source partitions, per-key running sums in 3 partitions
 * merged by a stateful unifier, a sink. Loaded by each container (so it builds the same DAG there).
 */
import { application, DurableMap, InputOperator, Operator } from 'sluice';
// Straight from the files: a container loads what the application needs, not every actor of the library.
import { Collected, CollectSink } from '../../../actors/collect-sink.ts';

type Tuple = { k: number; v: number };

class Numbers extends InputOperator<{ seq: number; owed: number }> {
  readonly out = this.output<Tuple>();
  override initialState() {
    return { seq: 0, owed: 0 };
  }
  override beginWindow(): void {
    this.state.owed += 7;
  }
  emitTuples(): void {
    for (; this.state.owed > 0; this.state.owed--) {
      const seq = this.state.seq++;
      this.out.emit({ k: seq % 5, v: (seq * 31) % 17 });
    }
  }
}

class RunningSum extends Operator<{ sums: DurableMap<number, number> }> {
  readonly out = this.output<Tuple>();
  readonly in = this.input<Tuple>((t) => {
    const sum = (this.state.sums.get(t.k) ?? 0) + t.v;
    this.state.sums.set(t.k, sum);
    this.out.emit({ k: t.k, v: sum });
  });
  override initialState() {
    return { sums: new DurableMap<number, number>() };
  }
}

/** Numbers what it forwards: a wrong merge order or a lost restore changes the output. */
class Numbering extends Operator<{ n: number }> {
  readonly out = this.output<Tuple>();
  readonly in = this.input<Tuple>((t) => this.out.emit({ k: t.k, v: t.v * 1000 + this.state.n++ }));
  override initialState() {
    return { n: 0 };
  }
}

export default application('partitioned-sums', (dag) => {
  const numbers = dag.add('numbers', Numbers, undefined, { partitions: 2 });
  const sums = dag.add('sums', RunningSum, undefined, { partitions: 3, unifier: Numbering });
  const sink = dag.add('sink', CollectSink<Tuple>, { into: new Collected<Tuple>() });
  dag.stream('numbers', numbers.out, sums.in).keyBy((t) => t.k);
  dag.stream('sums', sums.out, sink.in);
});
