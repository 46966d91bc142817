import { describe, expect, it } from 'vitest';
import { SequenceSource } from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore, Operator } from '../../src/index.ts';
import { spin } from '../kernel/kit.ts';

/** Slow on purpose: about 50 µs per tuple, without yielding. */
class SlowSink extends Operator {
  readonly in = this.input<number>(() => spin(50));
}

describe('backpressure metrics', () => {
  it('show a source blocked behind a slow sink, the edge between them full, and the sink not blocked', async () => {
    const app = application('slow', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 100_000, batch: 256 });
      const sink = dag.add('sink', SlowSink);
      dag.stream('numbers', src.out, sink.in).locality('container');
    });
    const run = await launch(app, {
      store: new MemorySnapshotStore(),
      streamingWindowMs: 20,
      checkpointWindowCount: 0,
      mailboxCapacity: 2,
      batchSize: 64,
    });
    try {
      await expect
        .poll(
          () => {
            const m = run.metrics();
            const src = m.actors.find((a) => a.actorId === 'src')!;
            const edge = m.edges.find((e) => e.stream === 'numbers')!;
            return src.blockedMs > 200 && edge.fullRatio > 0.5;
          },
          { timeout: 15_000, interval: 100 },
        )
        .toBe(true);
      const m = run.metrics();
      expect(m.actors.find((a) => a.actorId === 'sink')!.blockedMs).toBe(0);
      expect(m.edges.find((e) => e.stream === 'numbers')!.capacity).toBe(2);
      // The history says the same, a point a second.
      await expect
        .poll(() => run.collector!.history().at(-1)?.operators.sink?.inPerSecond ?? 0, { timeout: 5_000 })
        .toBeGreaterThan(0);
    } finally {
      await run.stop();
    }
  });
});
