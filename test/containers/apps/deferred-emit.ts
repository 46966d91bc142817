import { Collected, CollectSink, SequenceSource } from '../../../actors/index.ts';
import { application, Operator } from '../../../src/index.ts';

/** Emits from a promise callback once past tuple 40: tuples that would land in any open window. */
class Deferred extends Operator {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => {
    if (n > 40) void Promise.resolve(n).then((m) => this.out.emit(m));
    else this.out.emit(n);
  });
}

export default application('deferred-emit', (dag) => {
  const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
  const late = dag.add('late', Deferred);
  const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
  dag.stream('numbers', src.out, late.in).locality('node');
  dag.stream('out', late.out, sink.in).locality('node');
});
