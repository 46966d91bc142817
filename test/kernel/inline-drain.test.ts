import { expect, test } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, Operator, RestartStrategy } from '../../src/index.ts';
import { eventsOf, runToEnd } from './kit.ts';

/** What the consumer had counted when the producer's burst ended, per window (module-level: one run). */
const seenAtBurstEnd: number[] = [];
let consumed = 0;

/** Sums its input over the window and, at its end, emits `burst` tuples at once (an application window's records). */
class Burst extends Operator<{}, { burst: number }> {
  readonly out = this.output<number>();
  readonly in = this.input<number>(() => {});
  override endWindow(): void {
    const before = consumed;
    for (let i = 0; i < this.props.burst; i++) this.out.emit(i);
    seenAtBurstEnd.push(consumed - before);
  }
}

/** Counts what reaches it and forwards it; throws once at tuple `failAt` of window 3 when told. */
class Counter extends Operator<{ n: number }, { failAt?: number }> {
  readonly out = this.output<number>();
  readonly in = this.input<number>((t) => {
    consumed++;
    if (this.window === 3 && this.props.failAt === t && !failed) {
      failed = true;
      throw new Error('counter fails inside the burst');
    }
    this.state.n++;
    this.out.emit(this.state.n);
  });
  private window = 0;
  override initialState() {
    return { n: 0 };
  }
  override beginWindow(w: number): void {
    this.window = w;
  }
}
let failed = false;

const burstApp = (into: Collected<number>, failAt?: number) =>
  application('inline-drain', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 10 });
    const burst = dag.add('burst', Burst, { burst: 50_000 });
    const counter = dag.add('counter', Counter, { failAt });
    const sink = dag.add('sink', CollectSink<number>, { into });
    dag.stream('numbers', src.out, burst.in);
    dag.stream('records', burst.out, counter.in);
    dag.stream('counts', counter.out, sink.in);
  });

test('a burst that fills a mailbox is consumed while it is emitted, not piled up behind it', async () => {
  seenAtBurstEnd.length = 0;
  consumed = 0;
  const into = new Collected<number>();
  await runToEnd(burstApp(into), { windows: 4, mailboxCapacity: 16 });
  // 50,000 tuples in batches of 1,024 through a mailbox of 16: all but the last few batches were handled
  // inside the producer's endWindow.
  expect(seenAtBurstEnd).toHaveLength(4);
  for (const seen of seenAtBurstEnd) expect(seen).toBeGreaterThan(50_000 - 17 * 1024);
  expect(into.all()).toEqual(Array.from({ length: 200_000 }, (_, i) => i + 1));
});

test('a consumer that fails while it runs inside a burst is recovered as itself; the output is exact', async () => {
  failed = false;
  const into = new Collected<number>();
  const { events } = await runToEnd(burstApp(into, 30_000), {
    windows: 5,
    mailboxCapacity: 16,
    checkpointWindowCount: 2,
    restart: RestartStrategy.restart().withBackoff(0, 0),
  });
  expect(failed).toBe(true);
  const failures = eventsOf(events, 'failure');
  expect(failures.map((f) => [f.actorId, f.window, f.phase])).toEqual([['counter', 3, 'tuple']]);
  expect(into.all()).toEqual(Array.from({ length: 250_000 }, (_, i) => i + 1));
});
