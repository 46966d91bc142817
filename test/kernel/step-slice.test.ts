import { expect, test } from 'vitest';
import { application, InputOperator, Operator } from '../../src/index.ts';
import { runToEnd, spin } from './kit.ts';

/*
 * An operator with slow tuples must not hold its thread for a whole batch: the inputs beside it would
 * stop emitting, and a merge in another container that waits for them would idle (probe AG: two keyed
 * partitions fed by two partitioned sources took turns instead of running side by side, CPU 1.5× wall on
 * 2 cores, no faster than one thread). A scheduling pass gives each actor a short slice; the source then
 * emits between parts of the slow operator's batch. Where a batch is cut does not change what the
 * operator sees, nor in which order.
 */
const BATCH = 64;
const PER_WINDOW = 4 * BATCH;
const log: string[] = [];

/** A count-window source: 64 numbers a call, 256 a window; notes each call that emitted. */
class Numbers extends InputOperator<{ next: number; owed: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { next: 0, owed: 0 };
  }
  override beginWindow(): void {
    this.state.owed += PER_WINDOW;
  }
  override holdsWindow(): boolean {
    return this.state.owed > 0;
  }
  emitTuples(): void {
    if (this.state.owed === 0) return;
    log.push('emit');
    for (let k = 0; k < BATCH; k++, this.state.owed--) this.out.emit(this.state.next++);
  }
}

/** 300 µs of computing per tuple; notes each tuple (and checks they come in order). */
class Slow extends Operator<{ last: number }> {
  readonly in = this.input<number>((n) => {
    spin(300);
    expect(n).toBe(this.state.last + 1);
    this.state.last = n;
    log.push('tuple');
  });
  override initialState() {
    return { last: -1 };
  }
}

test('a batch of slow tuples is handled in slices: the source beside it emits in between, the order is kept', async () => {
  const app = application('step-slice', (dag) => {
    const numbers = dag.add('numbers', Numbers);
    const slow = dag.add('slow', Slow);
    dag.stream('numbers', numbers.out, slow.in);
  });
  await runToEnd(app, { windows: 3, batchSize: BATCH });
  expect(log.filter((e) => e === 'tuple')).toHaveLength(3 * PER_WINDOW);
  // While the source still had numbers to emit, the longest run of tuples with no call of it in between:
  // a slice (about 1 ms, the clock looked at every 8 tuples), not a whole batch of 64 (19 ms).
  let run = 0;
  let longest = 0;
  for (const e of log.slice(0, log.lastIndexOf('emit'))) {
    run = e === 'tuple' ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  expect(longest).toBeLessThan(BATCH);
});
