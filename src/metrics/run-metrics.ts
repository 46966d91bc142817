/**
 * The metrics collector of one run (docs/observability.md). The engine calls it once per window and
 * actor (`windowOpened`, `windowEnded`) and hands it its status events; a timer samples what cannot be
 * counted cheaply (mailbox depth, backpressure) and once a second turns counts into rates and a point of
 * history. Tuples are counted by the engine per batch on its channels, read here.
 */
import type { StatusEvent } from '../engine/status.ts';
import { ActorCounters } from './actor-counters.ts';
import { type ActorCounts, actorTuples, aggregate, type EdgeCounts, groupOf } from './aggregate.ts';
import { LatencyRecorder, summarize } from './latency.ts';
import { SAMPLE_BUDGET, SAMPLE_MS } from './sampling.ts';
import type { MetricsSource } from './source.ts';
import { type TapOpener, Taps } from './taps.ts';
import type { HistoryPoint, MetricsSnapshot, TimelineEntry } from './types.ts';

/** Window start times kept: a window ended more than this many windows after it opened is not timed. */
const RING = 256;
const TICK_MS = 1000;
const HISTORY = 300;
const TIMELINE = 500;

/** What RunMetrics counts itself (not read from its source): see ownCounts. */
export interface OwnCounts {
  failures: number;
  restarts: number;
  recoveries: { count: number; totalMs: number; lastMs: number };
  actorRestarts: Record<string, number>;
}

export class RunMetrics {
  private readonly counters = new Map<string, ActorCounters>();
  /** Per operator (unifiers apart), shared by its actors' counters. */
  private readonly operatorLatency = new Map<string, LatencyRecorder>();
  /** Live samples of the tuples crossing a port (the console, `sluice tap`). */
  readonly taps: TapOpener;
  private readonly startIds = new Float64Array(RING).fill(-1);
  private readonly starts = new Float64Array(RING);
  private readonly edges: EdgeCounts[];
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private lastSample = 0;
  private actorCursor = 0;
  private edgeCursor = 0;
  private lastTick = 0;
  private readonly historyPoints: HistoryPoint[] = [];
  private readonly timelineEntries: TimelineEntry[] = [];
  private failures = 0;
  private restarts = 0;
  private readonly recoveries = { count: 0, totalMs: 0, lastMs: 0 };
  private readonly listeners = new Set<(point: HistoryPoint) => void>();
  private readonly timelineListeners = new Set<(entry: TimelineEntry) => void>();
  /** On a cluster: the node hosting a container, named on each actor of a snapshot. */
  nodeOf: ((container: number) => string | undefined) | undefined;

  constructor(
    private readonly source: MetricsSource,
    private readonly now: () => number = () => performance.now(),
    /** Where taps open (containers: in the worker that writes the port); default the source's channels. */
    taps?: TapOpener,
  ) {
    this.taps = taps ?? new Taps(source);
    for (const a of source.plan.actors) {
      const group = groupOf(a);
      let latency = this.operatorLatency.get(group);
      if (latency === undefined) this.operatorLatency.set(group, (latency = new LatencyRecorder()));
      this.counters.set(a.id, new ActorCounters(latency));
    }
    this.edges = source.plan.channels.map((c) => ({
      plan: c,
      lastTuples: 0,
      perSecond: 0,
      samples: 0,
      full: 0,
      lastSamples: 0,
      lastFull: 0,
      fullRatio: 0,
    }));
  }

  /** Starts the sampling timer (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.lastSample = this.lastTick = this.now();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  // ---- engine hooks: once per window ---------------------------------------------------------

  /**
   * An input operator opened window w (the first one to do so starts its clock). `at` is when, on this
   * collector's clock, for a window opened in another thread (default now).
   */
  windowOpened(w: number, at = this.now()): void {
    const i = w % RING;
    if (this.startIds[i] === w) return;
    this.startIds[i] = w;
    this.starts[i] = at;
  }

  /** An actor finished window w (at `at`): its latency. A replayed window counts from its first start. */
  windowEnded(actorId: string, w: number, at = this.now()): void {
    const c = this.counters.get(actorId);
    if (c === undefined) return;
    c.windows++;
    const i = w % RING;
    if (this.startIds[i] === w) c.recordLatency(at - this.starts[i]!);
  }

  /** Whether window w's start is known (a window ended in another thread waits for it to be reported). */
  hasStart(w: number): boolean {
    return this.startIds[w % RING] === w;
  }

  onStatus(e: StatusEvent): void {
    const atMs = Date.now();
    switch (e.type) {
      case 'checkpoint':
        this.counters.get(e.actorId)?.checkpointed(e.ms, e.bytes);
        return;
      case 'failure':
        this.failures++;
        this.note({
          type: 'failure',
          atMs,
          actorId: e.actorId,
          operator: e.operator,
          window: e.window,
          phase: e.phase,
          // The cause's own words: the entry already says which actor, window and phase.
          message: e.error.cause instanceof Error ? e.error.cause.message : e.error.message,
        });
        return;
      case 'restart': {
        this.restarts++;
        // Actors rebuilt only to recompute (`replaying`) are replaced too, but they did not restart.
        const rebuilt = new Set([...e.actors, ...(e.replaying ?? [])]);
        // The instances about to be replaced: their own counters are read now, and kept (custom()).
        for (const a of this.source.actors())
          if (rebuilt.has(a.id)) this.counters.get(a.id)?.custom(a.operator);
        for (const id of e.actors) {
          const c = this.counters.get(id);
          if (c) c.restarts++;
        }
        this.note({
          type: 'restart',
          atMs,
          actors: [...e.actors],
          window: e.window,
          attempt: e.attempt,
          delayMs: e.delayMs,
        });
        return;
      }
      case 'recovered': {
        const r = this.recoveries;
        r.count++;
        r.lastMs = e.ms;
        r.totalMs += e.ms;
        const replayed = Math.max(0, this.source.liveWindow() - e.window);
        this.note({ type: 'recovered', atMs, actors: [...e.actors], window: e.window, replayed, ms: e.ms });
        return;
      }
      case 'started':
        this.note({ type: 'started', atMs, firstWindow: e.firstWindow, restoredWindow: e.restoredWindow });
        return;
      case 'stopped':
        this.note({ type: 'stopped', atMs, window: e.window, committed: e.committed, reason: e.reason });
        return;
      default:
    }
  }

  // ---- counts that outlive the collector -------------------------------------------------------

  /**
   * The counts kept here rather than by the source (failures, restarts, recoveries; restarts per actor):
   * plain data, so that a supervisor can store them and its successor go on from them (resumeCounts).
   */
  ownCounts(): OwnCounts {
    const actorRestarts: Record<string, number> = {};
    for (const [id, c] of this.counters) if (c.restarts > 0) actorRestarts[id] = c.restarts;
    return {
      failures: this.failures,
      restarts: this.restarts,
      recoveries: { ...this.recoveries },
      actorRestarts,
    };
  }

  /** Goes on from the counts of an earlier collector of the same application (added to its own). */
  resumeCounts(c: OwnCounts): void {
    this.failures += c.failures;
    this.restarts += c.restarts;
    this.recoveries.count += c.recoveries.count;
    this.recoveries.totalMs += c.recoveries.totalMs;
    if (this.recoveries.lastMs === 0) this.recoveries.lastMs = c.recoveries.lastMs;
    for (const [id, n] of Object.entries(c.actorRestarts)) {
      const counters = this.counters.get(id);
      if (counters) counters.restarts += n;
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  snapshot(): MetricsSnapshot {
    const liveWindow = this.source.liveWindow();
    const committed = this.source.committed();
    const { operators, actors, edges } = aggregate(this.actorCounts(), this.edges, this.source);
    if (this.nodeOf) {
      for (const a of actors) {
        const node = this.nodeOf(a.container);
        if (node !== undefined) a.node = node;
      }
    }
    return {
      application: this.source.plan.applicationName,
      atMs: Date.now(),
      uptimeMs: Date.now() - this.startedAt,
      window: this.source.doneWindow(),
      liveWindow,
      committed,
      commitLag: Math.max(0, liveWindow - committed),
      failures: this.failures,
      restarts: this.restarts,
      recoveries: { ...this.recoveries },
      operators,
      actors,
      edges,
    };
  }

  /** The window figures alone (cheap: for a log line per window). */
  windows(): { window: number; liveWindow: number; committed: number; commitLag: number } {
    const liveWindow = this.source.liveWindow();
    const committed = this.source.committed();
    return {
      window: this.source.doneWindow(),
      liveWindow,
      committed,
      commitLag: Math.max(0, liveWindow - committed),
    };
  }

  /** The last minutes, a point per second (oldest first). */
  history(): readonly HistoryPoint[] {
    return this.historyPoints;
  }

  timeline(): readonly TimelineEntry[] {
    return this.timelineEntries;
  }

  /** Called with every new history point (once a second) and timeline entry; returns an unsubscribe. */
  subscribe(onPoint: (p: HistoryPoint) => void, onEntry: (e: TimelineEntry) => void): () => void {
    this.listeners.add(onPoint);
    this.timelineListeners.add(onEntry);
    return () => {
      this.listeners.delete(onPoint);
      this.timelineListeners.delete(onEntry);
    };
  }

  // ---- sampling ------------------------------------------------------------------------------

  private actorCounts(): ActorCounts[] {
    const live = new Map(this.source.actors().map((a) => [a.id, a]));
    return this.source.plan.actors.map((plan) => ({
      plan,
      live: live.get(plan.id),
      counters: this.counters.get(plan.id)!,
    }));
  }

  /**
   * Every SAMPLE_MS: who is blocked, which mailboxes are full; every TICK_MS a point of history. At most
   * SAMPLE_BUDGET actors and channels a sample, in turn: a plan of thousands is covered over a few samples
   * instead of costing a few percent of a core.
   */
  private sample(): void {
    const now = this.now();
    const actors = this.source.actors();
    for (let k = Math.min(actors.length, SAMPLE_BUDGET); k > 0; k--) {
      const a = actors[this.actorCursor++ % actors.length]!;
      const c = this.counters.get(a.id);
      if (c === undefined) continue;
      if (a.blockedMs) c.blockedMs = a.blockedMs();
      // Blocked now: counted as blocked since this actor was last looked at.
      else if (a.blocked()) c.blockedMs += now - (c.sampledAt > 0 ? c.sampledAt : this.lastSample);
      c.sampledAt = now;
    }
    this.lastSample = now;
    const edges = this.edges;
    for (let k = Math.min(edges.length, SAMPLE_BUDGET); k > 0; k--) {
      const e = edges[this.edgeCursor++ % edges.length]!;
      const ch = this.source.channel(e.plan.id);
      if (ch === undefined || ch.sampled) continue;
      e.samples++;
      if (ch.backlog >= ch.capacity) e.full++;
    }
    if (now - this.lastTick >= TICK_MS) this.tick(now);
  }

  private tick(now: number): void {
    const seconds = (now - this.lastTick) / 1000;
    this.lastTick = now;
    for (const e of this.edges) {
      const tuples =
        (e.plan.fused ? this.source.fusedTuples(e.plan.id) : this.source.channel(e.plan.id)?.tuples) ?? 0;
      e.perSecond = Math.max(0, tuples - e.lastTuples) / seconds;
      e.lastTuples = tuples;
      const sampled = e.plan.fused ? undefined : this.source.channel(e.plan.id)?.sampled?.();
      if (sampled) {
        // Sampled in another thread: the share since the last tick, from its running counts.
        const n = sampled.samples - e.lastSamples;
        e.fullRatio = n > 0 ? (sampled.full - e.lastFull) / n : 0;
        e.lastSamples = sampled.samples;
        e.lastFull = sampled.full;
      } else e.fullRatio = e.samples > 0 ? e.full / e.samples : 0;
      e.samples = e.full = 0;
    }
    // Only rates here: the quantiles of every actor (what a snapshot adds) are not needed once a second.
    const { tuplesIn, tuplesOut } = actorTuples(
      this.edges.map((e) => ({ from: e.plan.from.actor, to: e.plan.to.actor, tuples: e.lastTuples })),
    );
    const live = new Map(this.source.actors().map((a) => [a.id, a]));
    const point: HistoryPoint = {
      atMs: Date.now(),
      window: this.source.doneWindow(),
      committed: this.source.committed(),
      operators: {},
    };
    for (const plan of this.source.plan.actors) {
      const c = this.counters.get(plan.id)!;
      const tuplesInNow = tuplesIn.get(plan.id) ?? 0;
      const tuplesOutNow = tuplesOut.get(plan.id) ?? 0;
      c.inPerSecond = Math.max(0, tuplesInNow - c.lastIn) / seconds;
      c.outPerSecond = Math.max(0, tuplesOutNow - c.lastOut) / seconds;
      c.lastIn = tuplesInNow;
      c.lastOut = tuplesOutNow;
      const group = groupOf(plan);
      const o = point.operators[group];
      const mailbox = live.get(plan.id)?.mailbox() ?? 0;
      if (o === undefined) {
        const recent = summarize(c.operatorLatency.recent);
        point.operators[group] = {
          inPerSecond: c.inPerSecond,
          outPerSecond: c.outPerSecond,
          p99Ms: recent.p99Ms,
          mailbox,
        };
      } else {
        o.inPerSecond += c.inPerSecond;
        o.outPerSecond += c.outPerSecond;
        o.mailbox += mailbox;
      }
    }
    for (const latency of this.operatorLatency.values()) latency.recent.reset();
    this.historyPoints.push(point);
    if (this.historyPoints.length > HISTORY) this.historyPoints.shift();
    for (const l of this.listeners) l(point);
  }

  private note(entry: TimelineEntry): void {
    this.timelineEntries.push(entry);
    if (this.timelineEntries.length > TIMELINE) this.timelineEntries.shift();
    for (const l of this.timelineListeners) l(entry);
  }
}
