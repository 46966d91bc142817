import { expect, test } from 'vitest';
import { Collected, CollectSink } from '../../actors/index.ts';
import {
  application,
  InputOperator,
  launch,
  MemorySnapshotStore,
  type OperatorContext,
} from '../../src/index.ts';
import { FailOnce, TimedReads } from './operators.ts';

/**
 * An input whose reads are asynchronous, as a Redis or Kafka reader's are: a read brings the next
 * `chunk` numbers after `delayMs`; emitTuples() emits what has landed, and with nothing there returns
 * false (waiting on I/O) and wakes the scheduler with ctx.wake() when the read lands. Its state is the
 * next number to emit, so a restored instance reads on from there (the data are replayable).
 */
class AsyncNumbers extends InputOperator<{ next: number }, { chunk: number; delayMs: number; log: Log }> {
  readonly out = this.output<number>();
  private reads!: TimedReads;

  override initialState() {
    return { next: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.reads = new TimedReads(this.state.next, this.props, () => {
      this.props.log.sinceWake = 0;
      ctx.wake();
    });
  }

  emitTuples(): boolean {
    const buffer = this.reads.buffer;
    if (buffer.length === 0) {
      const log = this.props.log;
      log.sinceWake++;
      log.mostBetweenWakes = Math.max(log.mostBetweenWakes, log.sinceWake);
      this.reads.start();
      return false;
    }
    for (const n of buffer.splice(0, 8)) {
      this.state.next = n + 1;
      this.out.emit(n);
    }
    if (buffer.length === 0) this.reads.start();
    return true;
  }

  override teardown(): void {
    this.reads.stop();
  }
}

interface Log {
  /** Calls that found nothing since the last read landed, and the most of them over the run. */
  sinceWake: number;
  mostBetweenWakes: number;
  failed: boolean;
}

test('an input waiting on I/O sleeps until ctx.wake(), in a replay too: every number once, no empty calls in a loop', async () => {
  const log: Log = { sinceWake: 0, mostBetweenWakes: 0, failed: false };
  const into = new Collected<number>();
  const app = application(
    'async-input',
    (dag) => {
      const src = dag.add('src', AsyncNumbers, { chunk: 32, delayMs: 40, log });
      const pass = dag.add('pass', FailOnce, { failAt: 17, log });
      const sink = dag.add('sink', CollectSink<number>, { into });
      dag.stream('numbers', src.out, pass.in);
      dag.stream('passed', pass.out, sink.in);
    },
    { checkpointWindowCount: 6 },
  );
  // Real time: windows of 20 ms and reads of 40 ms. The failure in window 17 restores the checkpoint of
  // window 12, and the source replays windows 13–16 from its window log: it waits on reads for each.
  const run = await launch(app, {
    store: new MemorySnapshotStore(),
    streamingWindowMs: 20,
    windows: 24,
    replayFrom: 'sources',
  });
  await run.done;
  expect(log.failed).toBe(true);
  expect(run.stats().restarts).toBe(1);
  const all = into.all();
  expect(all.length).toBeGreaterThan(100);
  expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i));
  // Called again at once, a waiting input makes thousands of empty calls while one read is in flight (a
  // replay spins; measured: 7,000–9,000 here). Asleep until its wake (or its window's timer, or a round
  // for the actors downstream), it makes a few dozen at most.
  expect(log.mostBetweenWakes).toBeGreaterThan(0);
  expect(log.mostBetweenWakes).toBeLessThan(200);
});
