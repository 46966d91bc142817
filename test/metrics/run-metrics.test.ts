import { describe, expect, it } from 'vitest';
import { MetricsOffError } from '../../src/index.ts';
import { runToEnd } from '../kernel/kit.ts';
import { bufferedApp, Collected, countingApp } from './apps.ts';

describe('run.metrics()', () => {
  it('counts tuples per actor, operator and edge (queued and fused), and the operators own metrics', async () => {
    const into = new Collected<number>();
    const { run } = await runToEnd(countingApp(into), {
      windows: 12,
      checkpointWindowCount: 4,
      metrics: { fusedTuples: true },
    });
    const m = run.metrics();
    const op = (name: string) => m.operators.find((o) => o.operator === name)!;
    const total = 12 * 100;
    expect(into.all()).toHaveLength(total);
    expect(op('src').tuplesOut).toBe(total);
    expect(op('count').tuplesIn).toBe(total);
    expect(op('count').actors).toEqual(['count#0', 'count#1']);
    expect(op('count:unifier').tuplesIn).toBe(total);
    // 'doubled' is fused: with fusedTuples, counted as it crosses the link (it has no batches).
    expect(m.edges.find((e) => e.stream === 'doubled')).toMatchObject({
      fused: true,
      counted: true,
      tuples: total,
    });
    expect(op('sink').tuplesIn).toBe(total);
    // this.metric(): counters sum over the partitions, the gauge takes the largest.
    expect(op('count').custom.seen_tuples).toEqual({ kind: 'counter', value: total });
    expect(op('count').custom.largest_tuple).toEqual({ kind: 'gauge', value: total - 1 });
    const perPartition = m.actors.filter((a) => a.operator === 'count' && a.kind === 'operator');
    expect(perPartition.map((a) => a.custom.seen_tuples!.value).reduce((s, v) => s + v)).toBe(total);
    expect(m.committed).toBe(12);
    expect(m.commitLag).toBe(0);
  });

  it('does not count tuples across fused streams by default (no per-tuple work)', async () => {
    const { run } = await runToEnd(countingApp(new Collected<number>()), { windows: 3 });
    const m = run.metrics();
    expect(m.edges.find((e) => e.stream === 'doubled')).toMatchObject({
      fused: true,
      counted: false,
      tuples: 0,
    });
    const numbers = m.edges.filter((e) => e.stream === 'numbers');
    expect(numbers.every((e) => e.counted && !e.fused)).toBe(true);
    expect(numbers.reduce((s, e) => s + e.tuples, 0)).toBe(300);
    expect(m.operators.find((o) => o.operator === 'sink')!.tuplesIn).toBe(0);
  });

  it('times every window at every actor and counts checkpoints with their duration and bytes', async () => {
    const { run } = await runToEnd(countingApp(new Collected<number>()), {
      windows: 8,
      checkpointWindowCount: 4,
    });
    const m = run.metrics();
    for (const a of m.actors) {
      expect(a.latency.count, a.actorId).toBe(8);
      expect(a.latency.p99Ms).toBeGreaterThanOrEqual(a.latency.p50Ms);
      // Windows 4 and 8.
      expect(a.checkpoints.count, a.actorId).toBe(2);
      expect(a.checkpoints.totalBytes, a.actorId).toBeGreaterThan(0);
    }
    // A sink ends a window after its source opened it.
    expect(m.operators.find((o) => o.operator === 'sink')!.latency.maxMs).toBeGreaterThan(0);
  });

  it('counts a failure, the restart of each operator rebuilt, and the recovery on the timeline', async () => {
    const into = new Collected<number>();
    const app = countingApp(into, { failAt: { window: 6, fired: { done: false } } });
    const { run } = await runToEnd(app, { windows: 12, checkpointWindowCount: 4, replayFrom: 'buffers' });
    const m = run.metrics();
    expect(m.failures).toBe(1);
    expect(m.restarts).toBe(1);
    expect(m.recoveries.count).toBe(1);
    const restarts = Object.fromEntries(m.operators.map((o) => [o.operator, o.restarts]));
    // The failed partition and everything downstream of it; not the source (it feeds both partitions:
    // its streams keep their buffers).
    expect(restarts).toMatchObject({ src: 0, count: 1, 'count:unifier': 1, double: 1, sink: 1 });
    const timeline = run.collector!.timeline().map((e) => e.type);
    expect(timeline).toEqual(['started', 'failure', 'restart', 'recovered', 'stopped']);
    const recovered = run.collector!.timeline().find((e) => e.type === 'recovered')!;
    expect(recovered).toMatchObject({ window: 4 });
    // The buffer replays what was written once: the edge counts it once. The operator's own counter
    // says what it did: the rebuilt partition redid windows 5 and 6.
    expect(into.all()).toHaveLength(1200);
    const count = m.operators.find((o) => o.operator === 'count')!;
    expect(count.tuplesIn).toBe(1200);
    expect(count.custom.seen_tuples!.value).toBeGreaterThan(1200);
  });

  it('counts a tuple that a buffer replays once, on its edge', async () => {
    const into = new Collected<number>();
    const { run } = await runToEnd(bufferedApp(into, { window: 6, fired: { done: false } }), {
      windows: 12,
      checkpointWindowCount: 4,
      replayFrom: 'buffers',
    });
    const m = run.metrics();
    const restarts = Object.fromEntries(m.operators.map((o) => [o.operator, o.restarts]));
    // The keeper keeps durable state: its stream keeps a buffer, and the failed sink recovers alone.
    expect(restarts).toMatchObject({ src: 0, keeper: 0, sink: 1 });
    expect(into.all()).toHaveLength(1200);
    const edge = m.edges.filter((e) => e.stream === 'kept');
    expect(edge.reduce((sum, e) => sum + e.tuples, 0)).toBe(1200);
    expect(m.operators.find((o) => o.operator === 'keeper')!.tuplesOut).toBe(1200);
  });

  it('counts, by default (no buffers), only the recovery set as restarted; the source recomputes', async () => {
    const into = new Collected<number>();
    const app = countingApp(into, { failAt: { window: 6, fired: { done: false } } });
    const { run } = await runToEnd(app, { windows: 12, checkpointWindowCount: 4 });
    const m = run.metrics();
    expect([m.failures, m.restarts, m.recoveries.count]).toEqual([1, 1, 1]);
    const restarts = Object.fromEntries(m.operators.map((o) => [o.operator, o.restarts]));
    expect(restarts).toMatchObject({ src: 0, count: 1, 'count:unifier': 1, double: 1, sink: 1 });
    expect(into.all()).toHaveLength(1200);
    // Windows 5 and 6 cross the edge again, recomputed by the rebuilt source.
    expect(m.operators.find((o) => o.operator === 'count')!.tuplesIn).toBeGreaterThan(1200);
  });

  it('is refused on a run launched with metrics: false, which counts nothing per window', async () => {
    const { run } = await runToEnd(countingApp(new Collected<number>()), { windows: 3, metrics: false });
    expect(run.collector).toBeNull();
    expect(() => run.metrics()).toThrow(MetricsOffError);
  });
});
