/**
 * What the collector keeps per actor id (not per instance: a recovery replaces the instance, the counts
 * go on). Updated once per window or per status event, and by the sampling timer; never per tuple.
 */
import { metricsOf } from '../api/operator-metrics.ts';
import { type Histogram, type LatencyRecorder, newHistogram } from './latency.ts';
import type { CheckpointMetrics, CustomMetricValue } from './types.ts';

export class ActorCounters {
  /** This actor's window latencies, in microseconds, since the run started. */
  readonly latency: Histogram = newHistogram();
  windows = 0;
  blockedMs = 0;
  /** When the collector last looked at whether this actor is blocked (0: not yet). */
  sampledAt = 0;
  restarts = 0;
  readonly checkpoints: CheckpointMetrics = { count: 0, totalMs: 0, lastMs: 0, totalBytes: 0, lastBytes: 0 };
  /** Rates over the last second, set by the collector's tick. */
  inPerSecond = 0;
  outPerSecond = 0;
  lastIn = 0;
  lastOut = 0;
  /** Counters of the operator instances a recovery replaced: added so a counter never goes down. */
  private readonly customBase = new Map<string, number>();
  private instance: object | null = null;

  constructor(
    /**
     * Shared by the actors of one operator (its partitions): each latency is recorded there too, so that
     * reading an operator's quantiles never merges thousands of histograms.
     */
    readonly operatorLatency: LatencyRecorder,
  ) {}

  recordLatency(ms: number): void {
    this.latency.recordValue(this.operatorLatency.record(ms));
  }

  checkpointed(ms: number | undefined, bytes: number | undefined): void {
    const c = this.checkpoints;
    c.count++;
    c.lastMs = ms ?? 0;
    c.totalMs += c.lastMs;
    if (bytes !== undefined) {
      c.lastBytes = bytes;
      c.totalBytes += bytes;
    }
  }

  /** The operator's own metrics (this.metric()), counters carried over the instances it replaced. */
  custom(operator: object): Record<string, CustomMetricValue & { aggregate?: string }> {
    if (this.instance !== operator) {
      if (this.instance !== null) {
        for (const [name, m] of metricsOf(this.instance)) {
          if (m.kind === 'counter') this.customBase.set(name, (this.customBase.get(name) ?? 0) + m.value);
        }
      }
      this.instance = operator;
    }
    const out: Record<string, CustomMetricValue & { aggregate?: string }> = {};
    for (const [name, base] of this.customBase) out[name] = { kind: 'counter', value: base };
    for (const [name, m] of metricsOf(operator)) {
      if (m.kind === 'counter')
        out[name] = { kind: 'counter', value: (this.customBase.get(name) ?? 0) + m.value };
      else out[name] = { kind: 'gauge', value: m.value, aggregate: m.aggregate };
    }
    return out;
  }
}
