/**
 * A source in one container and a sink in the other whose hooks append `<hook> <w> after <last window
 * ended>` lines to HOOKS_OUT: when, in the sink's own windows, checkpointed(w) and committed(w) ran.
 */
import { appendFileSync } from 'node:fs';
import { application, InputOperator, Operator } from 'sluice';

/** A hundred tuples per call, as many calls as a window holds: the stream between the containers never idles. */
class Counter extends InputOperator<{ n: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { n: 0 };
  }
  emitTuples(): void {
    for (let i = 0; i < 100; i++) this.out.emit(this.state.n++);
  }
}

class HookedSink extends Operator {
  private ended = 0;
  readonly in = this.input<number>(() => {});
  override endWindow(): void {
    this.ended++;
  }
  override checkpointed(w: number): void {
    appendFileSync(process.env.HOOKS_OUT!, `checkpointed ${w} after ${this.ended}\n`);
  }
  override committed(w: number): void {
    appendFileSync(process.env.HOOKS_OUT!, `committed ${w} after ${this.ended}\n`);
  }
}

export default application(
  'hooks',
  (dag) => {
    const numbers = dag.add('numbers', Counter);
    const sink = dag.add('sink', HookedSink);
    dag.stream('numbers', numbers.out, sink.in);
  },
  { checkpointWindowCount: 2 },
);
