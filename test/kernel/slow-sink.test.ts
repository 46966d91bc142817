import { expect, test } from 'vitest';
import { SequenceSource } from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore, Operator, WINDOWS_IN_FLIGHT } from '../../src/index.ts';
import { spin } from './kit.ts';

/** A sink whose endWindow takes 50 ms: waiting on I/O (async) or computing (blocking the thread). */
class SlowSink extends Operator<{ count: number }, { blocking: boolean }> {
  readonly in = this.input<number>(() => {
    this.state.count++;
  });
  override initialState() {
    return { count: 0 };
  }
  override endWindow(): void | Promise<void> {
    if (this.props.blocking) return spin(50_000);
    return new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Forwards what it gets. */
class Hop extends Operator {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => this.out.emit(n));
}

const slowApp = (blocking: boolean, tuplesPerWindow: number) =>
  application(
    'slow-sink',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow, batch: 1024 });
      const hop1 = dag.add('hop1', Hop);
      const hop2 = dag.add('hop2', Hop);
      const sink = dag.add('sink', SlowSink, { blocking });
      dag.stream('numbers', src.out, hop1.in);
      dag.stream('hop', hop1.out, hop2.in);
      dag.stream('hop2', hop2.out, sink.in);
    },
    { streamingWindowMs: 10 },
  );

// Large windows fill the mailboxes; small ones in roomy mailboxes leave the bound to window pacing.
test.each([
  { blocking: false, tuplesPerWindow: 20_000, mailboxCapacity: 16 },
  { blocking: true, tuplesPerWindow: 20_000, mailboxCapacity: 16 },
  { blocking: false, tuplesPerWindow: 50, mailboxCapacity: 256 },
])(
  'a 50 ms sink behind 10 ms windows (%o) paces the source: tuples every second, bounded windows in flight and memory, a prompt stop',
  async ({ blocking, tuplesPerWindow, mailboxCapacity }) => {
    const run = await launch(slowApp(blocking, tuplesPerWindow), {
      store: new MemorySnapshotStore(),
      mailboxCapacity,
    });
    const started = performance.now();
    const perSecond = [0, 0, 0];
    let lastTuples = 0;
    let maxInFlight = 0;
    let maxRss = 0;
    const rssBefore = process.memoryUsage().rss;
    run.on('status', (e) => {
      if (e.type !== 'window') return;
      const second = Math.floor((performance.now() - started) / 1000);
      if (second < perSecond.length) perSecond[second]! += e.tuples - lastTuples;
      lastTuples = e.tuples;
    });
    const sampler = setInterval(() => {
      const ops = run.stats().operators;
      const src = ops.find((o) => o.actorId === 'src')!.window;
      const sink = ops.find((o) => o.actorId === 'sink')!.window;
      maxInFlight = Math.max(maxInFlight, src - sink);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }, 5);
    await new Promise((r) => setTimeout(r, perSecond.length * 1000 + 50));
    const windowAtStop = run.stats().window;
    const stopStarted = performance.now();
    await run.stop();
    const stopMs = performance.now() - stopStarted;
    clearInterval(sampler);
    const windowsAfterStop = run.stats().window - windowAtStop;

    expect(
      perSecond.every((n) => n > 0),
      `tuples per second: ${perSecond.join(', ')}`,
    ).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(WINDOWS_IN_FLIGHT);
    // What a graceful stop has left to do is the windows in flight (a few 50 ms endWindows), not a backlog.
    expect(windowsAfterStop).toBeLessThanOrEqual(WINDOWS_IN_FLIGHT + 1);
    expect(stopMs, 'a generous bound: the bug took 31 s').toBeLessThan(5_000);
    expect(maxRss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  },
  20_000,
);
