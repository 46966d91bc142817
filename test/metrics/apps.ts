/** Applications the metrics, console and tap tests run. */
import { Collected, CollectSink, MapOperator, SequenceSource } from '../../actors/index.ts';
import { type Application, application, Operator } from '../../src/index.ts';

/** Counts what it sees in an operator metric, keeps the largest tuple in a gauge, and passes tuples on. */
export class Counting extends Operator<{}, { failAt?: { window: number; fired: { done: boolean } } }> {
  readonly seen = this.metric('seen_tuples');
  readonly largest = this.metric('largest_tuple', { kind: 'gauge', aggregate: 'max' });
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => {
    this.seen.inc();
    if (n > this.largest.value) this.largest.set(n);
    this.out.emit(n);
  });
  private window = 0;

  override beginWindow(w: number): void {
    this.window = w;
    const f = this.props.failAt;
    if (f && !f.fired.done && w === f.window) {
      f.fired.done = true;
      throw new Error(`injected failure in window ${w}`);
    }
  }
}

/** source → counting (2 partitions, keyed) → unifier → double (fused) → sink. */
export function countingApp(
  into: Collected<number>,
  options: { tuplesPerWindow?: number; failAt?: { window: number; fired: { done: boolean } } } = {},
): Application {
  return application('counting', (dag) => {
    const src = dag.add('src', SequenceSource, {
      tuplesPerWindow: options.tuplesPerWindow ?? 100,
      batch: 40,
    });
    const count = dag.add('count', Counting, { failAt: options.failAt }, { partitions: 2 });
    const double = dag.add('double', MapOperator<number, number>, { fn: (n: number) => n * 2 });
    const sink = dag.add('sink', CollectSink<number>, { into });
    dag.stream('numbers', src.out, count.in).keyBy((n) => n % 7);
    dag.stream('counted', count.out, double.in);
    dag.stream('doubled', double.out, sink.in).locality('thread');
  });
}

/** Keeps a running count in durable state and passes tuples on: with replayFrom 'buffers', its stream keeps a buffer. */
class Keeper extends Operator<{ kept: number }> {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => {
    this.state.kept++;
    this.out.emit(n);
  });
  override initialState() {
    return { kept: 0 };
  }
}

/** source → keeper (stateful) → a sink that fails once, at the start of `failAt.window`. */
export function bufferedApp(
  into: Collected<number>,
  failAt: { window: number; fired: { done: boolean } },
): Application {
  class FailingSink extends CollectSink<number> {
    override beginWindow(): void {
      if (!failAt.fired.done && this.ctx.windowId === failAt.window) {
        failAt.fired.done = true;
        throw new Error(`injected failure in window ${failAt.window}`);
      }
      super.beginWindow();
    }
  }
  return application('buffered', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 100, batch: 40 });
    const keeper = dag.add('keeper', Keeper);
    const sink = dag.add('sink', FailingSink, { into });
    dag.stream('numbers', src.out, keeper.in);
    dag.stream('kept', keeper.out, sink.in);
  });
}

export { Collected };
