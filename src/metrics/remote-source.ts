/**
 * The metrics source of a run whose actors live in other threads (containers): what the collector reads
 * is what their workers last reported (worker-report.ts), plus what the workers replaced before them had
 * counted, so that a counter never goes down when a container is replaced (a replayed window counts
 * again, as in one thread). Each actor keeps one operator stand-in for the whole run, carrying the
 * operator metrics its workers reported, so the collector reads them as it reads a live operator's.
 */
import { declareMetric, type GaugeAggregate } from '../api/operator-metrics.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { MetricsSource, SourceActor, SourceChannel, SourceCounts } from './source.ts';
import type { MetricsReport } from './worker-report.ts';

/**
 * A count reported by successive workers, or by the nodes that hosted them. A worker's count is for its
 * own life: what the replaced workers ended with is folded in (owner = the worker's handle). A node's is
 * for the node's life, over every worker it ran for that container (owner = the report's origin): the
 * last value of each origin is kept and they add up, so a container that moves away and back is not
 * counted twice, and a collector new to the run (a restarted or standby supervisor) takes the nodes'
 * counts as they stand: a counter goes on from where it was.
 */
export class Carried {
  private owner: object | undefined;
  private base = 0;
  private last = 0;
  private origins: Map<string, number> | undefined;

  set(owner: object | string, value: number): void {
    if (typeof owner === 'string') {
      if (this.origins === undefined) this.origins = new Map();
      this.origins.set(owner, value);
      return;
    }
    if (owner !== this.owner) {
      this.base += this.last;
      this.owner = owner;
    }
    this.last = value;
  }

  get value(): number {
    let v = this.base + this.last;
    if (this.origins) for (const x of this.origins.values()) v += x;
    return v;
  }
}

class RemoteActor implements SourceActor {
  readonly operator = {};
  lastEnded = 0;
  private depth = 0;
  private readonly blockedFor = new Carried();
  private readonly windows = new Carried();
  private readonly checkpoints = [new Carried(), new Carried(), new Carried()] as const;
  private readonly counters = new Map<string, Carried>();

  constructor(readonly id: string) {}

  absorb(owner: object | string, a: MetricsReport['actors'][number]): void {
    this.lastEnded = a.lastEnded;
    this.depth = a.mailbox;
    this.blockedFor.set(owner, a.blockedMs);
    this.windows.set(owner, a.windows);
    for (let i = 0; i < 3; i++) this.checkpoints[i]!.set(owner, a.checkpoints[i]!);
    for (const [name, kind, value, aggregate] of a.custom) {
      const m = declareMetric(this.operator, name, { kind, aggregate: aggregate as GaugeAggregate });
      if (m.kind === 'gauge') {
        m.value = value;
        continue;
      }
      let c = this.counters.get(name);
      if (c === undefined) this.counters.set(name, (c = new Carried()));
      c.set(owner, value);
      m.value = c.value;
    }
  }

  mailbox(): number {
    return this.depth;
  }

  blocked(): boolean {
    return false;
  }

  blockedMs(): number {
    return this.blockedFor.value;
  }

  counted(): SourceCounts {
    const [count, totalMs, totalBytes] = this.checkpoints.map((c) => c.value) as [number, number, number];
    return { windows: this.windows.value, checkpoints: { count, totalMs, totalBytes } };
  }
}

class RemoteChannel implements SourceChannel {
  backlog = 0;
  capacity = 0;
  /** Taps on containers are opened in the writer's worker (container-taps.ts): never called here. */
  tap: SourceChannel['tap'] = null;
  readonly carried = new Carried();
  readonly samples = new Carried();
  readonly full = new Carried();

  constructor(readonly crossing: boolean) {}

  get tuples(): number {
    return this.carried.value;
  }

  sampled(): { samples: number; full: number } {
    return { samples: this.samples.value, full: this.full.value };
  }
}

export class RemoteMetricsSource implements MetricsSource {
  private readonly actorViews = new Map<string, RemoteActor>();
  private readonly channels = new Map<number, RemoteChannel>();
  private readonly fused = new Map<number, Carried>();
  private live = 0;

  constructor(
    readonly plan: PhysicalPlan,
    private readonly windows: { doneWindow(): number; committed(): number },
  ) {
    for (const a of plan.actors) this.actorViews.set(a.id, new RemoteActor(a.id));
    const containerOf = new Map(plan.actors.map((a) => [a.id, a.container ?? 0]));
    for (const c of plan.channels) {
      if (c.fused) continue;
      const crossing = containerOf.get(c.from.actor) !== containerOf.get(c.to.actor);
      this.channels.set(c.id, new RemoteChannel(crossing));
    }
  }

  /**
   * A worker's report; `owner` stands for that worker (a new one for a replaced container), unless the
   * report names its origin (counts cumulative over a node's workers): see Carried.
   */
  absorb(worker: object, r: MetricsReport): void {
    const owner = r.origin ?? worker;
    if (r.liveWindow > this.live) this.live = r.liveWindow;
    for (const a of r.actors) this.actorViews.get(a.id)?.absorb(owner, a);
    for (const c of r.channels) {
      const ch = this.channels.get(c.id);
      if (ch === undefined) continue;
      // Across containers the unread batches are in the reader's worker (reported as inbound).
      if (!ch.crossing) ch.backlog = c.backlog;
      ch.capacity = c.capacity;
      ch.carried.set(owner, c.tuples);
      ch.samples.set(owner, c.samples);
      ch.full.set(owner, c.full);
    }
    for (const c of r.inbound) {
      const ch = this.channels.get(c.id);
      if (ch) ch.backlog = c.backlog;
    }
    for (const f of r.fused) {
      let c = this.fused.get(f.id);
      if (c === undefined) this.fused.set(f.id, (c = new Carried()));
      c.set(owner, f.tuples);
    }
  }

  actors(): readonly SourceActor[] {
    return [...this.actorViews.values()];
  }

  channel(id: number): SourceChannel | undefined {
    return this.channels.get(id);
  }

  fusedTuples(id: number): number | undefined {
    return this.fused.get(id)?.value;
  }

  liveWindow(): number {
    return Math.max(this.live, this.windows.doneWindow());
  }

  doneWindow(): number {
    return this.windows.doneWindow();
  }

  committed(): number {
    return this.windows.committed();
  }
}
