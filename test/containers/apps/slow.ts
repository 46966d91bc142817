/**
 * A fast source and a slow consumer in another container: a window asks for far more tuples than the
 * channel's credit, so only backpressure keeps the source from running ahead. With SLOW_PROGRESS set
 * (a directory), each side writes how far it got to a file there, for the test to compare live.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { application, InputOperator, Operator } from 'sluice';

const progress = (name: string, n: number) => {
  const dir = process.env.SLOW_PROGRESS;
  if (!dir) return;
  // Written whole, then renamed: a reader never sees a truncated file.
  writeFileSync(join(dir, `${name}.tmp`), String(n));
  renameSync(join(dir, `${name}.tmp`), join(dir, name));
};

class Numbers extends InputOperator<{ next: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { next: 0 };
  }
  emitTuples(): void {
    for (let i = 0; i < 1024; i++) this.out.emit(this.state.next++);
    if (this.state.next % (8 * 1024) === 0) progress('emitted', this.state.next);
  }
}

class Slow extends Operator<{ seen: number }> {
  readonly in = this.input<number>(() => {
    if (++this.state.seen % 1024 === 0) {
      progress('consumed', this.state.seen);
      const until = performance.now() + 10;
      while (performance.now() < until) {}
    }
  });
  override initialState() {
    return { seen: 0 };
  }
}

export default application(
  'slow',
  (dag) => {
    const numbers = dag.add('numbers', Numbers);
    const slow = dag.add('slow', Slow);
    dag.stream('numbers', numbers.out, slow.in);
  },
  // A window lasts a minute: within the test only the credit can hold the source back.
  { streamingWindowMs: 60_000, checkpointWindowCount: 0 },
);
