import { describe, expect, it } from 'vitest';
import { launch, MemorySnapshotStore, planPhysical } from '../../src/index.ts';
import type { TapSample } from '../../src/metrics/taps.ts';
import { channelsOfPort, renderTuple, TapError, Taps } from '../../src/metrics/taps.ts';
import { Collected, countingApp } from './apps.ts';

describe('taps', () => {
  it('hook the port channels only while open: closed, the writer finds null again', async () => {
    const run = await launch(countingApp(new Collected<number>()), {
      store: new MemorySnapshotStore(),
      streamingWindowMs: 10,
      checkpointWindowCount: 4,
    });
    const taps = run.collector!.taps;
    // The channels of count.out (two partitions → the unifier), through the same view the collector uses.
    const hooked = () =>
      (run as any).collector.source.plan.channels.filter((c: any) => c.from.actor.startsWith('count#'));
    const channel = (id: number) => (run as any).collector.source.channel(id);
    const samples: TapSample[] = [];
    const a = taps.open('count.out', 50, (s) => samples.push(s));
    const b = taps.open('count.out', 50, () => {});
    for (const c of hooked()) expect(channel(c.id).tap).not.toBeNull();
    await expect.poll(() => samples.length, { timeout: 10_000 }).toBeGreaterThan(2);
    // At most 10 per 200 ms slot (50/s), whatever the batch size.
    for (const s of samples) expect(s.tuples.length).toBeLessThanOrEqual(20);
    a.close();
    for (const c of hooked()) expect(channel(c.id).tap).not.toBeNull();
    b.close();
    for (const c of hooked()) expect(channel(c.id).tap).toBeNull();
    expect(() => taps.open('count.out', 0, () => {})).toThrow(TapError);
    expect(() => taps.open('count', 10, () => {})).toThrow(/expected OPERATOR\.PORT/);
    await run.stop();
  });

  it('take an operator (count:unifier, as metrics group it) or one actor as `sluice plan` names it (counted:unifier, count#1)', () => {
    const plan = planPhysical(countingApp(new Collected<number>()).dag());
    const unifierOut = channelsOfPort(plan, 'count:unifier.out');
    expect(unifierOut.map((c) => c.from.actor)).toEqual(['counted:unifier']);
    expect(channelsOfPort(plan, 'counted:unifier.out')).toEqual(unifierOut);
    expect(channelsOfPort(plan, 'count#1.out').map((c) => c.from.actor)).toEqual(['count#1']);
    expect(channelsOfPort(plan, 'count.out').map((c) => c.from.actor)).toEqual(['count#0', 'count#1']);
    expect(() => channelsOfPort(plan, 'nothing.out')).toThrow(/no operator "nothing"/);
  });

  it('spread a sample over the channels and batches of a port, not the first batches of each slot', async () => {
    const channels = [
      { tap: null as null | ((t: readonly unknown[], n: number) => void) },
      { tap: null as any },
    ];
    const taps = new Taps({ channel: (id: number) => channels[id] } as any);
    const samples: TapSample[] = [];
    const tap = taps.openChannels('readings.out', [0, 1], 10, (s) => samples.push(s));
    // Every 5 ms for a second, a batch of 64 on channel 0 then one on channel 1, as a partitioned
    // writer flushes them (the budget is 2 a slot: the first batch of a slot could take it all).
    for (let b = 0; b < 200; b++) {
      for (const ch of [0, 1])
        channels[ch]!.tap!(
          Array.from({ length: 64 }, (_, i) => ({ ch, i })),
          64,
        );
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 250));
    tap.close();
    const taken = samples.flatMap((s) => s.tuples.map((t) => JSON.parse(t) as { ch: number; i: number }));
    expect(taken.length).toBeGreaterThan(4);
    expect(new Set(taken.map((t) => t.ch))).toEqual(new Set([0, 1]));
    expect(new Set(taken.map((t) => t.i)).size).toBeGreaterThan(1);
  });

  it('take at most N a second also for N below 5 (a 200 ms slot took one at least: 5 a second)', async () => {
    const channel = { tap: null as null | ((t: readonly unknown[], n: number) => void) };
    const taps = new Taps({ channel: () => channel } as any);
    for (const sample of [1, 2, 4]) {
      const samples: TapSample[] = [];
      const tap = taps.openChannels('readings.out', [0], sample, (s) => samples.push(s));
      const started = Date.now();
      let last = started;
      while (Date.now() - started < 2100) {
        last = Date.now();
        channel.tap!([{ i: 1 }, { i: 2 }, { i: 3 }], 3);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 250));
      tap.close();
      const taken = samples.reduce((n, s) => n + s.tuples.length, 0);
      // Each calendar second the batches touched gives `sample` at most: three for 2.1 s, one more when a
      // loaded machine's timer came back late (CI once: 4 with a sample of 1).
      const seconds = Math.floor(last / 1000) - Math.floor(started / 1000) + 1;
      expect(taken).toBeGreaterThanOrEqual(sample);
      expect(taken).toBeLessThanOrEqual(seconds * sample);
    }
  });

  it('renders any tuple as bounded JSON', () => {
    expect(renderTuple({ n: 1n, m: new Map([['a', 1]]), s: new Set([2]) })).toBe(
      '{"n":"1n","m":{"a":1},"s":[2]}',
    );
    expect(renderTuple('x'.repeat(5000))).toHaveLength(1001);
    const cyclic: any = {};
    cyclic.self = cyclic;
    expect(renderTuple(cyclic)).toBe('[object Object]');
  });
});
