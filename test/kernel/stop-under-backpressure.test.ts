import { expect, test } from 'vitest';
import { application, InputOperator, launch, MemorySnapshotStore, Operator } from '../../src/index.ts';
import { spin } from './kit.ts';

/*
 * On the real clock a never-pausing input operator's window is cut 64 calls after its time is up, so a
 * burst is not cut short by a late scheduler. Under backpressure each of those calls waits for room, and
 * behind a slow consumer a graceful stop waited for all 64 (probe AH: a 200 ms window still open 200 s
 * after Ctrl-C). A stop now closes the open window at the first call past its time.
 */
const calls = { total: 0, afterStop: 0, stopping: false };

/** Never pauses: 64 numbers a call, every call. */
class Endless extends InputOperator<{ next: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { next: 0 };
  }
  emitTuples(): void {
    calls.total++;
    if (calls.stopping) calls.afterStop++;
    for (let k = 0; k < 64; k++) this.out.emit(this.state.next++);
  }
}

/** 1 ms of computing a tuple: the source waits for room. */
class Slow extends Operator<{ n: number }> {
  readonly in = this.input<number>(() => {
    spin(1000);
    this.state.n++;
  });
  override initialState() {
    return { n: 0 };
  }
}

test('a graceful stop on the real clock does not wait out 64 calls of a backpressured source', async () => {
  const app = application(
    'stop-under-backpressure',
    (dag) => {
      const src = dag.add('src', Endless);
      const slow = dag.add('slow', Slow);
      dag.stream('numbers', src.out, slow.in);
    },
    { streamingWindowMs: 50 },
  );
  const run = await launch(app, { store: new MemorySnapshotStore(), mailboxCapacity: 2, batchSize: 64 });
  while (calls.total < 5) await new Promise((r) => setTimeout(r, 10));
  calls.stopping = true;
  await run.stop();
  await run.done;
  // Each call past the stop waits for 64 ms of the consumer's work: a window of 50 ms allows one or two
  // before its time is up (64 after it, before).
  expect(calls.afterStop).toBeLessThanOrEqual(8);
}, 60_000);
