/**
 * The metrics of one container, as its worker sends them to the main thread with its heartbeat (a couple
 * of times a second, never per tuple): plain data, the counts of this worker's actors and of the channels
 * they write, cumulative for this worker's life (the main thread carries them over a replacement: see
 * remote-source.ts), and the window start and end times since the last report, on the wall clock shared
 * by all threads, from which the main thread times windows across containers.
 */
import { metricsOf } from '../api/operator-metrics.ts';
import { SAMPLE_BUDGET, SAMPLE_MS } from './sampling.ts';
import type { MetricsSource } from './source.ts';

/** One operator metric: name, kind, value, and how a gauge combines across partitions. */
export type ReportedMetric = readonly [
  name: string,
  kind: 'counter' | 'gauge',
  value: number,
  aggregate?: string,
];

export interface MetricsReport {
  /** The newest window this worker's input operators opened (0 without input operators). */
  readonly liveWindow: number;
  readonly actors: readonly {
    readonly id: string;
    readonly lastEnded: number;
    readonly mailbox: number;
    /** Time it had work and a mailbox it writes was full, sampled every 20 ms. */
    readonly blockedMs: number;
    /** Windows it finished, and its durable checkpoints: [count, total ms, total bytes]. */
    readonly windows: number;
    readonly checkpoints: readonly [count: number, totalMs: number, totalBytes: number];
    readonly custom: readonly ReportedMetric[];
  }[];
  /** The queued channels this worker writes (a cross-thread one is reported by its producer's worker). */
  readonly channels: readonly {
    readonly id: number;
    readonly tuples: number;
    readonly backlog: number;
    readonly capacity: number;
    /** Samples (every 20 ms) so far, and those in which its mailbox was full (backpressure). */
    readonly samples: number;
    readonly full: number;
  }[];
  /** Unread batches of the channels read here and written in another container (the writer's is 0). */
  readonly inbound: readonly { readonly id: number; readonly backlog: number }[];
  /** Fused channels' tuples (only when counted: `metrics: { fusedTuples: true }`). */
  readonly fused: readonly { readonly id: number; readonly tuples: number }[];
  /** [window, wall-clock ms] of each window an input operator here opened since the last report. */
  readonly opened: readonly (readonly [number, number])[];
  /** [actor, window, wall-clock ms] of each window an actor here finished since the last report. */
  readonly ended: readonly (readonly [string, number, number])[];
  /**
   * Who counted: the counts are cumulative for this origin (a cluster node's life, which carries a
   * container's counts over its workers there: carried-report.ts); absent, for the worker's life.
   */
  readonly origin?: string;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between threads. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Collects a worker's metrics between two reports: a sampling timer and two lists, nothing per tuple. */
export class WorkerMetrics {
  private readonly blocked = new Map<string, number>();
  /** Per actor: windows ended, and [count, total ms, total bytes] of its durable checkpoints. */
  private readonly windows = new Map<string, number>();
  private readonly checkpoints = new Map<string, [number, number, number]>();
  private opened: [number, number][] = [];
  private ended: [string, number, number][] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastSample = 0;
  private readonly sampledAt = new Map<string, number>();
  private actorCursor = 0;
  private writeCursor = 0;
  /** The newest window each input opened, so a replayed or second input's opening is sent once. */
  private lastOpened = 0;
  private readonly writes: readonly number[];
  private readonly reads: readonly number[];
  /** Per written queued channel: [samples, full]. */
  private readonly fullness = new Map<number, [number, number]>();

  constructor(private readonly source: MetricsSource) {
    const here = new Set(source.plan.actors.map((a) => a.id));
    this.writes = source.plan.channels.filter((c) => here.has(c.from.actor)).map((c) => c.id);
    this.reads = source.plan.channels
      .filter((c) => !c.fused && here.has(c.to.actor) && !here.has(c.from.actor))
      .map((c) => c.id);
  }

  start(): void {
    if (this.timer) return;
    this.lastSample = performance.now();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  windowOpened(w: number): void {
    if (w <= this.lastOpened) return;
    this.lastOpened = w;
    this.opened.push([w, wallNow()]);
  }

  windowEnded(actorId: string, w: number): void {
    this.windows.set(actorId, (this.windows.get(actorId) ?? 0) + 1);
    this.ended.push([actorId, w, wallNow()]);
  }

  /** A snapshot of `actorId` became durable (once per actor and checkpoint window). */
  checkpointed(actorId: string, ms: number | undefined, bytes: number | undefined): void {
    let c = this.checkpoints.get(actorId);
    if (c === undefined) this.checkpoints.set(actorId, (c = [0, 0, 0]));
    c[0]++;
    c[1] += ms ?? 0;
    c[2] += bytes ?? 0;
  }

  /** The report since the previous one (the window times are sent once). */
  report(): MetricsReport {
    const s = this.source;
    const actors = s.actors().map((a) => ({
      id: a.id,
      lastEnded: a.lastEnded,
      mailbox: a.mailbox(),
      blockedMs: Math.round(this.blocked.get(a.id) ?? 0),
      windows: this.windows.get(a.id) ?? 0,
      checkpoints: [...(this.checkpoints.get(a.id) ?? [0, 0, 0])] as const,
      custom: [...metricsOf(a.operator)].map(
        ([name, m]): ReportedMetric =>
          m.kind === 'gauge' ? [name, 'gauge', m.value, m.aggregate] : [name, 'counter', m.value],
      ),
    }));
    const channels = [];
    const fused = [];
    for (const id of this.writes) {
      const ch = s.channel(id);
      if (ch) {
        const [samples, full] = this.fullness.get(id) ?? [0, 0];
        channels.push({ id, tuples: ch.tuples, backlog: ch.backlog, capacity: ch.capacity, samples, full });
      } else {
        const tuples = s.fusedTuples(id);
        if (tuples !== undefined) fused.push({ id, tuples });
      }
    }
    const inbound = [];
    for (const id of this.reads) {
      const ch = s.channel(id);
      if (ch) inbound.push({ id, backlog: ch.backlog });
    }
    const report = {
      inbound,
      liveWindow: s.liveWindow(),
      actors,
      channels,
      fused,
      opened: this.opened,
      ended: this.ended,
    };
    this.opened = [];
    this.ended = [];
    return report;
  }

  /** As RunMetrics.sample: at most SAMPLE_BUDGET actors and channels a sample, in turn. */
  private sample(): void {
    const now = performance.now();
    const actors = this.source.actors();
    for (let k = Math.min(actors.length, SAMPLE_BUDGET); k > 0; k--) {
      const a = actors[this.actorCursor++ % actors.length]!;
      // Blocked now: counted as blocked since this actor was last looked at.
      const since = this.sampledAt.get(a.id) ?? this.lastSample;
      if (a.blocked()) this.blocked.set(a.id, (this.blocked.get(a.id) ?? 0) + now - since);
      this.sampledAt.set(a.id, now);
    }
    this.lastSample = now;
    const writes = this.writes;
    for (let k = Math.min(writes.length, SAMPLE_BUDGET); k > 0; k--) {
      const id = writes[this.writeCursor++ % writes.length]!;
      const ch = this.source.channel(id);
      if (ch === undefined) continue;
      let f = this.fullness.get(id);
      if (f === undefined) this.fullness.set(id, (f = [0, 0]));
      f[0]++;
      if (ch.hasRoom === false || ch.backlog >= ch.capacity) f[1]++;
    }
  }
}
