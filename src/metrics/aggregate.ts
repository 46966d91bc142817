/**
 * From per-actor counters and per-channel counts to the snapshot's actors, operators and edges. An
 * actor's tuples in are what its input channels carried, its tuples out what its output channels
 * carried (a stream with two consumers counts twice: it is delivered twice).
 */
import type { ActorPlan, ChannelPlan } from '../plan/physical-plan.ts';
import type { ActorCounters } from './actor-counters.ts';
import { summarize } from './latency.ts';
import type { MetricsSource, SourceActor } from './source.ts';
import type { ActorMetrics, CustomMetricValue, EdgeMetrics, OperatorMetrics } from './types.ts';

export interface ActorCounts {
  plan: ActorPlan;
  /** Undefined while a recovery rebuilds it. */
  live: SourceActor | undefined;
  counters: ActorCounters;
}

export interface EdgeCounts {
  plan: ChannelPlan;
  lastTuples: number;
  perSecond: number;
  samples: number;
  full: number;
  fullRatio: number;
  /** A channel sampled in another thread: its running counts at the last tick. */
  lastSamples: number;
  lastFull: number;
}

export function aggregate(
  counts: readonly ActorCounts[],
  edgeCounts: readonly EdgeCounts[],
  source: MetricsSource,
): { actors: ActorMetrics[]; operators: OperatorMetrics[]; edges: EdgeMetrics[] } {
  const edges = edgeCounts.map((e) => edgeMetrics(e, source));
  const { tuplesIn, tuplesOut } = actorTuples(edges);
  const gauges = new Map<string, string>();
  const actors = counts.map(({ plan, live, counters: c }): ActorMetrics => {
    const custom: Record<string, CustomMetricValue> = {};
    const counted = live?.counted?.();
    if (live) {
      for (const [name, m] of Object.entries(c.custom(live.operator))) {
        custom[name] = { kind: m.kind, value: m.value };
        if (m.aggregate) gauges.set(`${groupOf(plan)}\u0000${name}`, m.aggregate);
      }
    }
    return {
      actorId: plan.id,
      operator: plan.operator,
      kind: plan.isInput ? 'input' : plan.kind,
      partition: plan.partition,
      container: plan.container ?? 0,
      window: live?.lastEnded ?? 0,
      windows: counted?.windows ?? c.windows,
      tuplesIn: tuplesIn.get(plan.id) ?? 0,
      tuplesOut: tuplesOut.get(plan.id) ?? 0,
      inPerSecond: c.inPerSecond,
      outPerSecond: c.outPerSecond,
      latency: summarize(c.latency),
      mailbox: live?.mailbox() ?? 0,
      blockedMs: Math.round(c.blockedMs),
      checkpoints: { ...c.checkpoints, ...counted?.checkpoints },
      restarts: c.restarts,
      custom,
    };
  });
  const groups = new Map<string, number[]>();
  counts.forEach((x, i) => {
    const g = groupOf(x.plan);
    const list = groups.get(g);
    if (list) list.push(i);
    else groups.set(g, [i]);
  });
  const operators: OperatorMetrics[] = [];
  for (const [name, indices] of groups) {
    const members = indices.map((i) => actors[i]!);
    const sum = (f: (a: ActorMetrics) => number) => members.reduce((s, a) => s + f(a), 0);
    const checkpoints = {
      count: sum((a) => a.checkpoints.count),
      totalMs: sum((a) => a.checkpoints.totalMs),
      lastMs: Math.max(0, ...members.map((a) => a.checkpoints.lastMs)),
      totalBytes: sum((a) => a.checkpoints.totalBytes),
      lastBytes: sum((a) => a.checkpoints.lastBytes),
    };
    operators.push({
      operator: name,
      actors: members.map((a) => a.actorId),
      windows: sum((a) => a.windows),
      tuplesIn: sum((a) => a.tuplesIn),
      tuplesOut: sum((a) => a.tuplesOut),
      inPerSecond: sum((a) => a.inPerSecond),
      outPerSecond: sum((a) => a.outPerSecond),
      latency: summarize(counts[indices[0]!]!.counters.operatorLatency.total),
      mailbox: sum((a) => a.mailbox),
      blockedMs: sum((a) => a.blockedMs),
      checkpoints,
      restarts: Math.max(0, ...members.map((a) => a.restarts)),
      custom: combineCustom(name, members, gauges),
    });
  }
  return { actors, operators, edges };
}

/** Per actor, the tuples its input channels carried to it and its output channels from it. */
export function actorTuples(edges: readonly { from: string; to: string; tuples: number }[]): {
  tuplesIn: Map<string, number>;
  tuplesOut: Map<string, number>;
} {
  const tuplesIn = new Map<string, number>();
  const tuplesOut = new Map<string, number>();
  for (const e of edges) {
    tuplesOut.set(e.from, (tuplesOut.get(e.from) ?? 0) + e.tuples);
    tuplesIn.set(e.to, (tuplesIn.get(e.to) ?? 0) + e.tuples);
  }
  return { tuplesIn, tuplesOut };
}

/** Unifiers are shown apart from the partitions they merge. */
export function groupOf(plan: ActorPlan): string {
  return plan.kind === 'unifier' ? `${plan.operator}:unifier` : plan.operator;
}

function edgeMetrics(e: EdgeCounts, source: MetricsSource): EdgeMetrics {
  const ch = e.plan.fused ? undefined : source.channel(e.plan.id);
  return {
    channel: e.plan.id,
    stream: e.plan.stream,
    from: e.plan.from.actor,
    to: e.plan.to.actor,
    fused: e.plan.fused,
    tuples: (e.plan.fused ? source.fusedTuples(e.plan.id) : ch?.tuples) ?? 0,
    counted: !e.plan.fused || source.fusedTuples(e.plan.id) !== undefined,
    perSecond: e.perSecond,
    backlog: ch?.backlog ?? 0,
    capacity: ch?.capacity ?? 0,
    fullRatio: e.fullRatio,
  };
}

/** Counters sum over partitions; gauges combine as declared (sum, max, min or avg). */
function combineCustom(
  group: string,
  members: readonly ActorMetrics[],
  gauges: ReadonlyMap<string, string>,
): Record<string, CustomMetricValue> {
  const values = new Map<string, { kind: 'counter' | 'gauge'; values: number[] }>();
  for (const a of members) {
    for (const [name, m] of Object.entries(a.custom)) {
      const v = values.get(name);
      if (v) v.values.push(m.value);
      else values.set(name, { kind: m.kind, values: [m.value] });
    }
  }
  const out: Record<string, CustomMetricValue> = {};
  for (const [name, { kind, values: vs }] of values) {
    const how = kind === 'counter' ? 'sum' : (gauges.get(`${group}\u0000${name}`) ?? 'sum');
    const total = vs.reduce((s, x) => s + x, 0);
    const value =
      how === 'max'
        ? Math.max(...vs)
        : how === 'min'
          ? Math.min(...vs)
          : how === 'avg'
            ? total / vs.length
            : total;
    out[name] = { kind, value };
  }
  return out;
}
