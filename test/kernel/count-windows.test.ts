import { expect, test } from 'vitest';
import { Collected, CollectSink } from '../../actors/index.ts';
import {
  application,
  InputOperator,
  launch,
  MemorySnapshotStore,
  type OperatorContext,
  RestartStrategy,
} from '../../src/index.ts';
import { FailOnce, TimedReads } from './operators.ts';

interface Feed {
  /** Numbers a read brings, and how long it takes. */
  chunk: number;
  delayMs: number;
  /** The source has this many numbers in all (then reads bring nothing). */
  total: number;
}

/**
 * Count windows over a slow asynchronous source (as RedisStreamReadings with `countWindows`): each
 * window is owed `perWindow` numbers and holds the window open until it emitted them, however long the
 * reads take. State: the next number and what the windows are still owed.
 */
interface CountedProps extends Feed {
  perWindow: number;
  /** Shared with the test: emitTuples() calls that found nothing read ahead. */
  emptyCalls?: { n: number };
}

class CountedNumbers extends InputOperator<{ next: number; owed: number }, CountedProps> {
  readonly out = this.output<number>();
  private reads!: TimedReads;

  override initialState() {
    return { next: 0, owed: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.reads = new TimedReads(this.state.next, this.props, () => ctx.wake());
  }

  override beginWindow(): void {
    this.state.owed += this.props.perWindow;
  }

  override holdsWindow(): boolean {
    return this.state.owed > 0;
  }

  emitTuples(): boolean {
    const buffer = this.reads.buffer;
    if (buffer.length === 0) {
      if (this.props.emptyCalls) this.props.emptyCalls.n++;
      this.reads.start();
      return false;
    }
    const s = this.state;
    for (const n of buffer.splice(0, Math.min(8, s.owed))) {
      s.next = n + 1;
      s.owed--;
      this.out.emit(n);
    }
    return true;
  }

  override teardown(): void {
    this.reads.stop();
  }
}

function countApp(feed: CountedProps, into: Collected<number>, failAt = 0) {
  return application(
    'count-windows',
    (dag) => {
      const src = dag.add('src', CountedNumbers, feed);
      const pass = dag.add('pass', FailOnce, { failAt, log: { failed: false } });
      const sink = dag.add('sink', CollectSink<number>, { into });
      dag.stream('numbers', src.out, pass.in);
      dag.stream('passed', pass.out, sink.in);
    },
    { checkpointWindowCount: 4 },
  );
}

test('an input that holds the window (count windows) gets exactly its quota in every window on the real clock, across a recovery', async () => {
  // Reads of 7 numbers every 30 ms against 20 numbers owed to each 10 ms window: by the clock alone a
  // window would close with what had landed (0–7 numbers); held, each waits for its 20.
  const into = new Collected<number>();
  const app = countApp({ chunk: 7, delayMs: 30, total: 1_000_000, perWindow: 20 }, into, 7);
  const run = await launch(app, { store: new MemorySnapshotStore(), streamingWindowMs: 10, windows: 12 });
  await run.done;
  expect(run.stats().restarts).toBe(1);
  for (let w = 1; w <= 12; w++) {
    expect(into.windows.get(w), `window ${w}`).toEqual(
      Array.from({ length: 20 }, (_, i) => (w - 1) * 20 + i),
    );
  }
});

test('a graceful stop does not wait for a held window that its source never fills: the window closes short, nothing lost', async () => {
  // 50 numbers in all, 20 a window: windows 1 and 2 fill, window 3 holds 10 and waits for ever.
  const into = new Collected<number>();
  const app = countApp({ chunk: 50, delayMs: 5, total: 50, perWindow: 20 }, into);
  const run = await launch(app, { store: new MemorySnapshotStore(), streamingWindowMs: 50 });
  while (into.lastWindow < 2) await new Promise((r) => setTimeout(r, 10));
  // Held: window 3 does not close on the clock (many window lengths pass).
  await new Promise((r) => setTimeout(r, 500));
  expect(into.lastWindow).toBe(2);
  run.stop();
  // The hold lapses once the source emitted nothing for two window lengths (at least 500 ms) after the
  // stop; without that bound the stop would wait for ever (the test's own timeout).
  await run.done;
  expect(into.lastWindow).toBe(3);
  expect(into.windows.get(3)).toEqual(Array.from({ length: 10 }, (_, i) => 40 + i));
  expect(into.all()).toEqual(Array.from({ length: 50 }, (_, i) => i));
});

test('a graceful stop waits for a held window while its source still delivers: the last window is whole', async () => {
  // Reads of 3 every 30 ms against 20 owed to each 10 ms window: a window takes ~200 ms; the stop lands
  // mid-window and must not cut it short while the reads keep landing (a stop cut it at once before).
  for (const stopAfterMs of [130, 270]) {
    const into = new Collected<number>();
    const app = countApp({ chunk: 3, delayMs: 30, total: 1_000_000, perWindow: 20 }, into);
    const run = await launch(app, { store: new MemorySnapshotStore(), streamingWindowMs: 10 });
    await new Promise((r) => setTimeout(r, stopAfterMs));
    run.stop();
    await run.done;
    const windows = [...into.windows.keys()];
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) {
      expect(into.windows.get(w), `window ${w}`).toEqual(
        Array.from({ length: 20 }, (_, i) => (w - 1) * 20 + i),
      );
    }
  }
});

test('on virtual time too, a held window whose source waits on I/O sleeps until ctx.wake(): exact windows, no empty calls in a loop', async () => {
  const into = new Collected<number>();
  const emptyCalls = { n: 0 };
  const app = countApp({ chunk: 7, delayMs: 30, total: 1_000_000, perWindow: 20, emptyCalls }, into);
  const run = await launch(app, { store: new MemorySnapshotStore(), virtualTime: true, windows: 6 });
  await run.done;
  for (let w = 1; w <= 6; w++) {
    expect(into.windows.get(w), `window ${w}`).toEqual(
      Array.from({ length: 20 }, (_, i) => (w - 1) * 20 + i),
    );
  }
  // ~18 reads of 30 ms: a call or two each while asleep; spinning, over a million (measured: 1.45 M).
  expect(emptyCalls.n).toBeLessThan(200);
});

/** 3 tuples a call, 500 owed a window; holdsWindow() as a plain-JavaScript user may write it. */
class TruthyHold extends InputOperator<
  { next: number; owed: number },
  { hold: 'count' | 'throw' | 'async' }
> {
  readonly out = this.output<number>();
  override initialState() {
    return { next: 0, owed: 0 };
  }
  override beginWindow(): void {
    this.state.owed += 500;
  }
  override holdsWindow(): boolean {
    if (this.props.hold === 'throw' && this.state.next > 100) throw new Error('hold broke');
    if (this.props.hold === 'async') return Promise.resolve(true) as unknown as boolean;
    return this.state.owed as unknown as boolean; // a count, truthy while owed
  }
  emitTuples(): void {
    const s = this.state;
    for (let i = 0; i < Math.min(3, s.owed); i++, s.owed--) this.out.emit(s.next++);
  }
}

function truthyApp(hold: 'count' | 'throw' | 'async', into: Collected<number>) {
  return application('truthy-hold', (dag) => {
    const src = dag.add('src', TruthyHold, { hold });
    const sink = dag.add('sink', CollectSink<number>, { into });
    dag.stream('numbers', src.out, sink.in);
  });
}

test('holdsWindow(): a truthy answer holds (on virtual time a window is otherwise cut at 64 calls); a throw fails in phase holdsWindow; a promise is refused', async () => {
  const into = new Collected<number>();
  const run = await launch(truthyApp('count', into), {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows: 3,
  });
  await run.done;
  expect([...into.windows.values()].map((t) => t.length)).toEqual([500, 500, 500]);

  for (const [hold, pattern] of [
    ['throw', /failed in window 1 during holdsWindow: hold broke/],
    ['async', /failed in window 1 during holdsWindow: holdsWindow\(\) returned a promise/],
  ] as const) {
    const failing = await launch(truthyApp(hold, new Collected<number>()), {
      store: new MemorySnapshotStore(),
      virtualTime: true,
      windows: 3,
      restart: RestartStrategy.stop(),
    });
    await expect(failing.done).rejects.toThrow(pattern);
  }
});
