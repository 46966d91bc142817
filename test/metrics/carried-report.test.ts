import { describe, expect, it } from 'vitest';
import { CarriedReports } from '../../src/metrics/carried-report.ts';
import { Carried, RemoteMetricsSource } from '../../src/metrics/remote-source.ts';
import type { MetricsReport } from '../../src/metrics/worker-report.ts';
import type { PhysicalPlan } from '../../src/plan/physical-plan.ts';

/** A worker's report for one actor `a` writing channel 1 and fused channel 2, with counter `seen`. */
function report(tuples: number, extra: Partial<MetricsReport> = {}): MetricsReport {
  return {
    liveWindow: 7,
    actors: [
      {
        id: 'a',
        lastEnded: 7,
        mailbox: 3,
        blockedMs: tuples / 10,
        windows: tuples / 100,
        checkpoints: [tuples / 1000, 5, 64],
        custom: [
          ['seen', 'counter', tuples],
          ['depth', 'gauge', 9, 'max'],
        ],
      },
    ],
    channels: [{ id: 1, tuples, backlog: 2, capacity: 16, samples: tuples / 20, full: 1 }],
    inbound: [],
    fused: [{ id: 2, tuples: tuples * 2 }],
    opened: [[7, 1000]],
    ended: [['a', 6, 999]],
    ...extra,
  };
}

describe('a node carries each container’s counts over the workers it ran for it', () => {
  it('goes on from the replaced worker’s counts, gauges and window times as reported', () => {
    const node = new CarriedReports('n1');
    const first = {};
    const second = {};
    node.carry('app', 0, first, report(1000));
    node.carry('app', 0, first, report(2000));
    const r = node.carry('app', 0, second, report(300));
    expect(r.origin).toBe(node.origin);
    expect(r.origin).toMatch(/^n1#[0-9a-f]{8}$/);
    expect(r.channels[0]).toEqual({ id: 1, tuples: 2300, backlog: 2, capacity: 16, samples: 115, full: 2 });
    expect(r.fused).toEqual([{ id: 2, tuples: 4600 }]);
    const a = r.actors[0]!;
    expect([a.blockedMs, a.windows, a.checkpoints]).toEqual([230, 23, [2.3, 10, 128]]);
    expect(a.custom).toEqual([
      ['seen', 'counter', 2300],
      ['depth', 'gauge', 9, 'max'],
    ]);
    expect([a.mailbox, a.lastEnded, r.opened, r.ended]).toEqual([3, 7, [[7, 1000]], [['a', 6, 999]]]);
  });

  it('keeps containers and applications apart, and the last report without its window times', () => {
    const node = new CarriedReports('n1');
    const w = {};
    node.carry('app', 0, w, report(1000));
    node.carry('app', 1, {}, report(10));
    node.carry('other', 0, {}, report(20));
    expect(node.last('app', 0)?.channels[0]?.tuples).toBe(1000);
    expect(node.last('app', 1)?.channels[0]?.tuples).toBe(10);
    expect(node.last('other', 0)?.channels[0]?.tuples).toBe(20);
    expect(node.last('app', 2)).toBeUndefined();
    expect([node.last('app', 0)?.opened, node.last('app', 0)?.ended]).toEqual([[], []]);
  });

  it('names each node life apart: a node restarted under the same id is another origin', () => {
    expect(new CarriedReports('n1').origin).not.toBe(new CarriedReports('n1').origin);
  });
});

describe('Carried, on the supervisor', () => {
  it('adds what replaced workers ended with (a worker’s count is for its life)', () => {
    const c = new Carried();
    const w1 = {};
    c.set(w1, 10);
    c.set(w1, 15);
    c.set({}, 4);
    expect(c.value).toBe(19);
  });

  it('sums the latest count of each origin: a container moving back to a node is not counted twice', () => {
    const c = new Carried();
    c.set('n1#a', 100);
    c.set('n2#b', 30); // moved to n2
    c.set('n1#a', 150); // back on n1: n1's count includes its first 100
    expect(c.value).toBe(180);
  });

  it('a collector new to the run takes a node’s count as it stands (a restarted supervisor)', () => {
    const before = new Carried();
    before.set('n1#a', 500);
    const after = new Carried();
    after.set('n1#a', 520);
    expect(after.value).toBeGreaterThanOrEqual(before.value);
  });
});

/** Actor `a` (container 0) writing queued channel 1 and fused channel 2. */
const plan = {
  applicationName: 'app',
  actors: [{ id: 'a', operator: 'a', kind: 'operator', partition: 0, container: 0 }],
  channels: [
    { id: 1, stream: 's', from: { actor: 'a', port: 'out' }, to: { actor: 'b', port: 'in' }, fused: false },
    { id: 2, stream: 'f', from: { actor: 'a', port: 'out' }, to: { actor: 'c', port: 'in' }, fused: true },
  ],
} as unknown as PhysicalPlan;
const windows = { doneWindow: () => 0, committed: () => 0 };

describe('the counts of node lives that no longer report, for the next supervisor', () => {
  it('a container counted by another origin is a move; a seeded successor adds the earlier origin', () => {
    const first = new RemoteMetricsSource(plan, windows);
    expect(first.absorb({}, { ...report(1000), origin: 'n1#a' })).toBe(false);
    expect(first.absorb({}, { ...report(1200), origin: 'n1#a' })).toBe(false);
    expect(first.absorb({}, { ...report(100), origin: 'n2#b' })).toBe(true); // moved to n2
    expect(first.channel(1)?.tuples).toBe(1300);
    const saved = structuredClone(first.carried());
    expect(saved['channel 1 tuples']).toEqual({ 'n1#a': 1200, 'n2#b': 100 });

    const next = new RemoteMetricsSource(plan, windows); // a restarted supervisor: n1 reports no more
    next.seed(saved);
    next.absorb({}, { ...report(150), origin: 'n2#b' });
    expect(next.channel(1)?.tuples).toBe(1350);
    expect(next.fusedTuples(2)).toBe(2700);
    const a = next.actors()[0]!;
    expect(a.blockedMs?.()).toBe(135);
    const counted = a.counted?.();
    expect([counted?.windows, counted?.checkpoints.totalMs, counted?.checkpoints.totalBytes]).toEqual([
      13.5, 10, 128,
    ]);
    expect(counted?.checkpoints.count).toBeCloseTo(1.35);
  });
});
