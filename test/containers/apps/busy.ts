/**
 * A long synchronous call that makes progress: at window BUSY_WINDOW (default 3) Busy's endWindow emits
 * 45,000 numbers, pausing 100 ms of busy CPU after every thousand (~4.5 s in one call, never yielding);
 * with BUSY_SLOW=1, 450 numbers 10 ms apart (as long, and no batch of 1,024 ever fills).
 * With BUSY_PER_TUPLE_MS=n instead: each window brings BUSY_PER_WINDOW numbers in one batch, Busy spends
 * n ms of busy CPU on each (a model call per tuple) and emits only their count, at its window's end.
 * BUSY_OUT names the output directory of the window files.
 */
import { application, Operator, type OperatorContext } from 'sluice';
import { FileSink } from '../../../actors/file-sink.ts';
import { SequenceSource } from '../../../actors/sequence-source.ts';

export const BUSY_TUPLES = 45_000;
export const BUSY_SLOW_TUPLES = 450;

export class Busy extends Operator {
  private ctx!: OperatorContext;
  readonly out = this.output<number>();
  private perTupleMs = Number(process.env.BUSY_PER_TUPLE_MS ?? 0);
  private seen = 0;
  readonly in = this.input<number>((n) => {
    if (this.perTupleMs === 0) return this.out.emit(n);
    this.seen++;
    const until = performance.now() + this.perTupleMs;
    while (performance.now() < until) {}
  });
  override setup(ctx: OperatorContext) {
    this.ctx = ctx;
  }
  override endWindow(): void {
    if (this.perTupleMs > 0) {
      this.out.emit(this.seen);
      this.seen = 0;
      return;
    }
    if (this.ctx.windowId !== Number(process.env.BUSY_WINDOW ?? 3)) return;
    // BUSY_SLOW: one tuple every 10 ms (no batch fills in the whole call), else a thousand per 100 ms.
    const slow = process.env.BUSY_SLOW === '1';
    const tuples = slow ? BUSY_SLOW_TUPLES : BUSY_TUPLES;
    for (let i = 0; i < tuples; i++) {
      this.out.emit(-i);
      if (slow || i % 1000 === 999) {
        const until = performance.now() + (slow ? 10 : 100);
        while (performance.now() < until) {}
      }
    }
  }
}

export default application(
  'busy',
  (dag) => {
    const perWindow = Number(process.env.BUSY_PER_WINDOW ?? 10);
    const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: perWindow, batch: perWindow });
    const busy = dag.add('busy', Busy);
    const files = dag.add('files', FileSink, { dir: process.env.BUSY_OUT ?? 'out/busy' });
    dag.stream('numbers', numbers.out, busy.in);
    dag.stream('busy', busy.out, files.in);
  },
  { streamingWindowMs: 20, checkpointWindowCount: 2 },
);
