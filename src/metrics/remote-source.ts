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

  /** The latest count of each origin (what a successor needs of origins that no longer report). */
  byOrigin(): Record<string, number> {
    return Object.fromEntries(this.origins ?? []);
  }

  /** Counts an earlier collector had of origins this one has not heard from (theirs are newer). */
  seed(counts: Record<string, number>): void {
    for (const [origin, value] of Object.entries(counts)) {
      if (this.origins === undefined) this.origins = new Map();
      if (!this.origins.has(origin)) this.origins.set(origin, value);
    }
  }
}

class RemoteActor implements SourceActor {
  readonly operator = {};
  lastEnded = 0;
  private depth = 0;
  private readonly blockedFor = new Carried();
  private readonly windows = new Carried();
  private readonly checkpoints = [new Carried(), new Carried(), new Carried()] as const;
  readonly counters = new Map<string, Carried>();

  constructor(readonly id: string) {}

  /** Every count it carries, by name (see RemoteMetricsSource.carried). */
  carried(): [string, Carried][] {
    const named: [string, Carried][] = [
      ['blocked', this.blockedFor],
      ['windows', this.windows],
      ['checkpoints', this.checkpoints[0]],
      ['checkpointMs', this.checkpoints[1]],
      ['checkpointBytes', this.checkpoints[2]],
    ];
    for (const [name, c] of this.counters) named.push([`metric ${name}`, c]);
    return named;
  }

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
  /** The origin each container's reports last came from (a cluster node's life). */
  private readonly originOf = new Map<number, string>();
  private readonly containerOf: Map<string, number>;

  constructor(
    readonly plan: PhysicalPlan,
    private readonly windows: { doneWindow(): number; committed(): number },
  ) {
    for (const a of plan.actors) this.actorViews.set(a.id, new RemoteActor(a.id));
    const containerOf = new Map(plan.actors.map((a) => [a.id, a.container ?? 0]));
    this.containerOf = containerOf;
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
  absorb(worker: object, r: MetricsReport): boolean {
    const owner = r.origin ?? worker;
    let moved = false;
    const container = this.containerOf.get(r.actors[0]?.id ?? '');
    if (r.origin !== undefined && container !== undefined) {
      const before = this.originOf.get(container);
      moved = before !== undefined && before !== r.origin;
      this.originOf.set(container, r.origin);
    }
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
    return moved;
  }

  /**
   * Every count carried per origin, keyed by what it counts: plain data for the store, so that a later
   * collector (a restarted supervisor) keeps the counts of nodes that no longer report for a container
   * (it moved, or the node restarted). Only origins: a worker-owned count is this process's alone.
   */
  carried(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    const put = (key: string, c: Carried) => {
      const counts = c.byOrigin();
      if (Object.keys(counts).length > 0) out[key] = counts;
    };
    for (const a of this.actorViews.values()) for (const [name, c] of a.carried()) put(`${a.id} ${name}`, c);
    for (const [id, ch] of this.channels) {
      put(`channel ${id} tuples`, ch.carried);
      put(`channel ${id} samples`, ch.samples);
      put(`channel ${id} full`, ch.full);
    }
    for (const [id, c] of this.fused) put(`fused ${id}`, c);
    return out;
  }

  /** Takes up what `carried()` gave an earlier collector of this application (before any report). */
  seed(saved: Record<string, Record<string, number>>): void {
    for (const a of this.actorViews.values()) {
      for (const [name, c] of a.carried()) {
        const counts = saved[`${a.id} ${name}`];
        if (counts) c.seed(counts);
      }
      for (const key of Object.keys(saved)) {
        const prefix = `${a.id} metric `;
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(prefix.length);
        let c = a.counters.get(name);
        if (c === undefined) a.counters.set(name, (c = new Carried()));
        c.seed(saved[key]!);
      }
    }
    for (const [id, ch] of this.channels) {
      ch.carried.seed(saved[`channel ${id} tuples`] ?? {});
      ch.samples.seed(saved[`channel ${id} samples`] ?? {});
      ch.full.seed(saved[`channel ${id} full`] ?? {});
    }
    for (const [key, counts] of Object.entries(saved)) {
      if (!key.startsWith('fused ')) continue;
      const id = Number(key.slice(6));
      let c = this.fused.get(id);
      if (c === undefined) this.fused.set(id, (c = new Carried()));
      c.seed(counts);
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
