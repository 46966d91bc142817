/**
 * The metrics in Prometheus's text format, through prom-client: every metric reads the snapshot taken
 * for the scrape (one snapshot per scrape, not one per metric). Counters are cumulative since the run
 * started; `rate()` gives throughput, `sum by (operator)` the operator's figure.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { ActorMetrics, MetricsSnapshot } from './types.ts';

type Labels = Record<string, string | number>;

interface Def {
  name: string;
  help: string;
  kind: 'counter' | 'gauge';
  labels: string[];
  values(s: MetricsSnapshot): [Labels, number][];
}

/**
 * On a cluster an actor also names the node and the container hosting it. A unifier's `operator` is
 * `NAME:unifier`, as in the latency series and `/metrics.json`'s operators: `sum by (operator)` then
 * gives each its own throughput instead of adding the unifier's to its partitions'.
 */
const actorLabels = (a: ActorMetrics): Labels => {
  const operator = a.kind === 'unifier' ? `${a.operator}:unifier` : a.operator;
  return a.node === undefined
    ? { operator, actor: a.actorId, kind: a.kind }
    : { operator, actor: a.actorId, kind: a.kind, node: a.node, container: a.container };
};
const perActor = (f: (a: ActorMetrics) => number) => (s: MetricsSnapshot) =>
  s.actors.map((a): [Labels, number] => [actorLabels(a), f(a)]);
const one = (f: (s: MetricsSnapshot) => number) => (s: MetricsSnapshot) => [[{}, f(s)] as [Labels, number]];
const ACTOR = ['operator', 'actor', 'kind', 'node', 'container'];
const EDGE = ['stream', 'from', 'to'];

const DEFS: Def[] = [
  {
    name: 'sluice_tuples_in_total',
    help: 'Tuples an actor read from its input streams.',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.tuplesIn),
  },
  {
    name: 'sluice_tuples_out_total',
    help: 'Tuples an actor emitted onto its output streams.',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.tuplesOut),
  },
  {
    name: 'sluice_tuples_in_per_second',
    help: 'Tuples read per second over the last second.',
    kind: 'gauge',
    labels: ACTOR,
    values: perActor((a) => a.inPerSecond),
  },
  {
    name: 'sluice_tuples_out_per_second',
    help: 'Tuples emitted per second over the last second.',
    kind: 'gauge',
    labels: ACTOR,
    values: perActor((a) => a.outPerSecond),
  },
  {
    name: 'sluice_windows_total',
    help: 'Windows an actor finished.',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.windows),
  },
  {
    name: 'sluice_window_latency_seconds',
    help: "From a window's start at the input operators to its end at this operator (quantile 1: the largest), over the run.",
    kind: 'gauge',
    labels: ['operator', 'quantile'],
    values: (s) =>
      s.operators.flatMap((o): [Labels, number][] => [
        [{ operator: o.operator, quantile: '0.5' }, o.latency.p50Ms / 1000],
        [{ operator: o.operator, quantile: '0.99' }, o.latency.p99Ms / 1000],
        [{ operator: o.operator, quantile: '1' }, o.latency.maxMs / 1000],
      ]),
  },
  {
    name: 'sluice_mailbox_batches',
    help: "Batches waiting in an actor's mailbox.",
    kind: 'gauge',
    labels: ACTOR,
    values: perActor((a) => a.mailbox),
  },
  {
    name: 'sluice_backpressure_seconds_total',
    help: 'Time an actor had work but a mailbox it writes was full (sampled).',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.blockedMs / 1000),
  },
  {
    name: 'sluice_checkpoints_total',
    help: 'Checkpoints that became durable.',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.checkpoints.count),
  },
  {
    name: 'sluice_checkpoint_seconds_total',
    help: 'Time from snapshot to durable, summed.',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.checkpoints.totalMs / 1000),
  },
  {
    name: 'sluice_checkpoint_bytes_total',
    help: 'Bytes of the checkpoints written (where the runtime encoded them).',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.checkpoints.totalBytes),
  },
  {
    name: 'sluice_checkpoint_last_seconds',
    help: 'Duration of the latest checkpoint.',
    kind: 'gauge',
    labels: ACTOR,
    values: perActor((a) => a.checkpoints.lastMs / 1000),
  },
  {
    name: 'sluice_checkpoint_last_bytes',
    help: 'Size of the latest checkpoint.',
    kind: 'gauge',
    labels: ACTOR,
    values: perActor((a) => a.checkpoints.lastBytes),
  },
  {
    name: 'sluice_actor_restarts_total',
    help: 'Recoveries that rebuilt this actor.',
    kind: 'counter',
    labels: ACTOR,
    values: perActor((a) => a.restarts),
  },
  {
    name: 'sluice_window',
    help: 'The newest window every actor finished.',
    kind: 'gauge',
    labels: [],
    values: one((s) => s.window),
  },
  {
    name: 'sluice_live_window',
    help: 'The newest window the input operators opened.',
    kind: 'gauge',
    labels: [],
    values: one((s) => s.liveWindow),
  },
  {
    name: 'sluice_committed_window',
    help: 'The newest window every actor checkpointed.',
    kind: 'gauge',
    labels: [],
    values: one((s) => s.committed),
  },
  {
    name: 'sluice_commit_lag_windows',
    help: 'Live window minus committed window.',
    kind: 'gauge',
    labels: [],
    values: one((s) => s.commitLag),
  },
  {
    name: 'sluice_failures_total',
    help: 'Operator failures.',
    kind: 'counter',
    labels: [],
    values: one((s) => s.failures),
  },
  {
    name: 'sluice_restarts_total',
    help: 'Restarts decided by the supervisor.',
    kind: 'counter',
    labels: [],
    values: one((s) => s.restarts),
  },
  {
    name: 'sluice_recoveries_total',
    help: 'Recoveries completed.',
    kind: 'counter',
    labels: [],
    values: one((s) => s.recoveries.count),
  },
  {
    name: 'sluice_recovery_seconds_total',
    help: 'Time spent in recoveries.',
    kind: 'counter',
    labels: [],
    values: one((s) => s.recoveries.totalMs / 1000),
  },
  {
    name: 'sluice_recovery_last_seconds',
    help: 'Duration of the latest recovery.',
    kind: 'gauge',
    labels: [],
    values: one((s) => s.recoveries.lastMs / 1000),
  },
  {
    name: 'sluice_edge_tuples_total',
    help: 'Tuples that crossed a channel.',
    kind: 'counter',
    labels: EDGE,
    values: (s) =>
      s.edges.map((e): [Labels, number] => [{ stream: e.stream, from: e.from, to: e.to }, e.tuples]),
  },
  {
    name: 'sluice_edge_backlog_batches',
    help: 'Unread batches on a channel.',
    kind: 'gauge',
    labels: EDGE,
    values: (s) =>
      s.edges
        .filter((e) => !e.fused)
        .map((e): [Labels, number] => [{ stream: e.stream, from: e.from, to: e.to }, e.backlog]),
  },
  {
    name: 'sluice_edge_backpressure_ratio',
    help: "Share of the last second's samples in which the channel's mailbox was full.",
    kind: 'gauge',
    labels: EDGE,
    values: (s) =>
      s.edges
        .filter((e) => !e.fused)
        .map((e): [Labels, number] => [{ stream: e.stream, from: e.from, to: e.to }, e.fullRatio]),
  },
  {
    name: 'sluice_operator_counter_total',
    help: 'Counters operators declared with this.metric(), summed over partitions.',
    kind: 'counter',
    labels: ['operator', 'name'],
    values: (s) => customOf(s, 'counter'),
  },
  {
    name: 'sluice_operator_gauge',
    help: 'Gauges operators declared with this.metric(), combined over partitions as declared.',
    kind: 'gauge',
    labels: ['operator', 'name'],
    values: (s) => customOf(s, 'gauge'),
  },
];

function customOf(s: MetricsSnapshot, kind: 'counter' | 'gauge'): [Labels, number][] {
  return s.operators.flatMap((o) =>
    Object.entries(o.custom)
      .filter(([, m]) => m.kind === kind)
      .map(([name, m]): [Labels, number] => [{ operator: o.operator, name }, m.value]),
  );
}

/**
 * A registry whose metrics read `current()` when collected; call `render(snapshot)` per scrape. Every
 * series carries its snapshot's `application` label, so one scrape can hold several applications (the
 * cluster supervisor's: `render([a, b])`).
 */
export class PrometheusExport {
  readonly registry = new Registry();
  private current: readonly MetricsSnapshot[] = [];
  /** Scrapes one at a time: the metrics read `current` while the registry collects. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    const self = this;
    for (const d of DEFS) {
      const collect = function (this: Counter | Gauge) {
        this.reset();
        for (const s of self.current) {
          for (const [labels, v] of d.values(s)) {
            labels.application = s.application;
            if (this instanceof Counter) this.inc(labels, Math.max(0, v));
            else this.set(labels, v);
          }
        }
      };
      const config = {
        name: d.name,
        help: d.help,
        labelNames: ['application', ...d.labels],
        registers: [this.registry],
        collect,
      };
      if (d.kind === 'counter') new Counter(config);
      else new Gauge(config);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(snapshot: MetricsSnapshot | readonly MetricsSnapshot[]): Promise<string> {
    const rendered = this.queue.then(async () => {
      this.current = Array.isArray(snapshot) ? snapshot : [snapshot as MetricsSnapshot];
      try {
        return await this.registry.metrics();
      } finally {
        this.current = [];
      }
    });
    this.queue = rendered.catch(() => {});
    return rendered;
  }
}
