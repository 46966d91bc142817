/**
 * The README's first example, as a file: `npx sluice run examples/max-cpu/app.ts --windows 4`.
 * Keep the two identical.
 */
import { application, InputOperator, Operator } from 'sluice';
import { ConsoleSink } from 'sluice/actors';

type Reading = { device: number; cpu: number };

// What an input operator still owes is state: if a window closes before all of it is out, the rest goes
// into the next window, and a restore re-emits the same sequence.
export class Readings extends InputOperator<{ seq: number; owed: number }, { perWindow: number }> {
  readonly out = this.output<Reading>();
  // Durable: restored after a failure.
  override initialState() {
    return { seq: 0, owed: 0 };
  }
  override beginWindow() {
    this.state.owed += this.props.perWindow;
  }
  // Called repeatedly inside each window: emit a bounded batch and return.
  emitTuples() {
    for (let n = 0; n < 1024 && this.state.owed > 0; n++, this.state.owed--) {
      const seq = this.state.seq++;
      this.out.emit({ device: seq % 10, cpu: (seq * 37) % 100 });
    }
  }
}

export class MaxCpu extends Operator<{ max: Map<number, number> }> {
  readonly out = this.output<{ device: number; max: number }>();
  readonly in = this.input<Reading>((r) => {
    this.state.max.set(r.device, Math.max(this.state.max.get(r.device) ?? 0, r.cpu));
  });
  override initialState() {
    return { max: new Map<number, number>() };
  }
  override endWindow() {
    for (const [device, max] of this.state.max) this.out.emit({ device, max });
    this.state.max.clear();
  }
}

export default application(
  'max-cpu',
  (dag) => {
    const readings = dag.add('readings', Readings, { perWindow: 100 });
    const max = dag.add('max', MaxCpu, undefined, { partitions: 4 });
    const print = dag.add('print', ConsoleSink<{ device: number; max: number }>, { prefix: 'max-cpu ' });
    dag.stream('readings', readings.out, max.in).keyBy((r) => r.device); // tsc checks the port types
    dag.stream('max', max.out, print.in);
  },
  { streamingWindowMs: 500, checkpointWindowCount: 10 },
);
