import { EventEmitter } from 'node:events';
import type { Application } from '../api/application.ts';
import { ContainerFailure } from '../container/errors.ts';
import { failureEvent, operatorFailure } from '../container/failures.ts';
import { crossLinks } from '../container/links.ts';
import type { ContainerEvent, DeployConfig, MainNotice } from '../container/protocol.ts';
import { type ContainerSupervision, restartOrThrow } from '../container/supervision.ts';
import { describe, type OperatorFailure } from '../engine/failure.ts';
import { findRestoreWindow } from '../engine/restore.ts';
import type { OperatorStats, RunStats, StatusEvent } from '../engine/status.ts';
import type { Supervision } from '../engine/supervision.ts';
import { containerOf } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import { ClusterMetrics } from './cluster-metrics.ts';
import { ClusterPlacementError } from './errors.ts';
import type { DeployRequest, NodeEvent } from './node-protocol.ts';
import { place } from './placement.ts';

/** A node the supervisor can place containers on. */
export type NodeSlot = { readonly nodeId: string; readonly slots: number; readonly dataUrl: string };

/** How a cluster run reaches the nodes (the supervisor's membership implements it). */
export interface NodeDirectory {
  /** Live nodes that run the application's build (each checked from its own disk), in join order. */
  eligible(module: string, hash: string): Promise<NodeSlot[]>;
  call(nodeId: string, method: string, ...args: unknown[]): Promise<unknown>;
  note(nodeId: string, note: Record<string, unknown>): void;
}

export type ClusterRunOptions = {
  readonly containers: number;
  /** File URL of the application module, loaded by every node from its own disk. */
  readonly module: string;
  /** The launcher's build hash of the module: nodes reporting another are not used. */
  readonly hash: string;
  readonly streamingWindowMs: number;
  readonly checkpointWindowCount: number;
  readonly windows?: number;
  readonly virtualTime?: boolean;
  /** How long a (re)start waits for a node to place containers on. Default 30 s. */
  readonly placementTimeoutMs?: number;
};

type Outcome =
  | { kind: 'done' }
  | { kind: 'killed' }
  | { kind: 'failed'; failure: OperatorFailure | ContainerFailure };

type Placed = {
  readonly container: number;
  readonly actors: readonly string[];
  readonly node: string;
  done: number;
  tuples: number;
  finished: boolean;
  operators: OperatorStats[];
};

/**
 * An application run across the nodes of a cluster, driven by the supervisor as ContainerRun drives
 * worker threads in one process: the supervisor owns the store (nodes send sealed snapshots over their
 * connection), tracks commits, paces the inputs by the whole application's progress, and answers any
 * failure — an operator's, a container that died, a node lost — by asking the container supervision,
 * then placing every container again on the live nodes and restarting them from the committed
 * checkpoint (inputs replay their window logs; every stream is deterministic, so the output is unchanged).
 * Each life has its own epoch: events and store calls of an older one are ignored and refused, so the
 * containers of a node declared dead write nothing.
 */
export class ClusterRun {
  readonly events = new EventEmitter<{ status: [StatusEvent] }>();
  state: 'starting' | 'running' | 'recovering' | 'done' | 'stopped' | 'failed' | 'killed' = 'starting';
  epoch = 0;
  private placed: Placed[] = [];
  private finalWindow: number;
  private doneWindow = 0;
  private restarts = 0;
  private stopRequested = false;
  private killed = false;
  private live = false;
  private settle: ((o: Outcome) => void) | undefined;
  private pendingRestart: { attempt: number; delayMs: number } | undefined;
  private readonly links;
  /** What the containers report with their heartbeats (relayed by their nodes): metrics, console, taps. */
  readonly metrics: ClusterMetrics;

  constructor(
    private readonly app: Application,
    readonly plan: PhysicalPlan,
    readonly store: SnapshotStore,
    private readonly options: ClusterRunOptions,
    private readonly commits: Supervision,
    private readonly supervision: ContainerSupervision,
    private readonly nodes: NodeDirectory,
  ) {
    this.finalWindow = options.windows ?? Number.POSITIVE_INFINITY;
    this.links = crossLinks(plan);
    this.metrics = new ClusterMetrics(plan, {
      doneWindow: () => this.doneWindow,
      committed: () => this.commits.committedWindow,
      nodeOf: (c) => this.placed.find((p) => p.container === c)?.node,
      callNode: (c, method, ...args) => {
        const p = this.placed.find((x) => x.container === c);
        if (p === undefined || !this.live) return;
        void this.nodes.call(p.node, method, this.app.name, this.epoch, ...args).catch(() => {});
      },
    });
  }

  /** The metrics collector (what the supervisor's console and metrics endpoint serve). */
  get collector(): ClusterMetrics['collector'] {
    return this.metrics.collector;
  }

  get name(): string {
    return this.app.name;
  }

  /** Container → node of the current life. */
  get placement(): Record<number, string> {
    return Object.fromEntries(this.placed.map((p) => [p.container, p.node]));
  }

  async execute(): Promise<void> {
    let reason: 'windows' | 'stop' | 'failure' = 'windows';
    this.metrics.start();
    try {
      let outcome = await this.attempt(true);
      while (outcome.kind === 'failed') {
        this.state = 'recovering';
        const delayMs = this.decide(outcome.failure);
        await this.terminateAll();
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        if (this.killed) break;
        outcome = await this.attempt(false);
      }
      reason = this.stopRequested ? 'stop' : 'windows';
      this.state = this.killed ? 'killed' : this.stopRequested ? 'stopped' : 'done';
    } catch (e) {
      reason = 'failure';
      this.state = 'failed';
      throw e;
    } finally {
      await this.terminateAll();
      if (!this.killed)
        this.emit({
          type: 'stopped',
          window: this.doneWindow,
          committed: this.commits.committedWindow,
          reason,
        });
      this.metrics.stop();
    }
  }

  private decide(failure: OperatorFailure | ContainerFailure): number {
    this.emit(failureEvent(failure));
    this.pendingRestart = restartOrThrow(this.supervision, failure, this.options.checkpointWindowCount > 0);
    this.restarts++;
    return this.pendingRestart.delayMs;
  }

  private newLife(): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      this.settle = (o) => {
        this.settle = undefined;
        this.live = false;
        resolve(o);
      };
    });
  }

  /** One life: place every container on the live nodes, deploy at the restore window, start. */
  private async attempt(first: boolean): Promise<Outcome> {
    const started = performance.now();
    const outcome = this.newLife();
    if (this.killed) return { kind: 'killed' };
    this.placed = [];
    const epochMs = await this.prepareStore();
    const { window: r, warnings } = await findRestoreWindow(this.store, this.plan);
    for (const message of warnings) this.emit({ type: 'warning', message });
    const replayableFrom = Math.min(r, ((await this.store.getMeta('replayableFrom')) as number) ?? 0);
    if (!first) {
      const p = this.pendingRestart ?? { attempt: 0, delayMs: 0 };
      const actors = this.plan.actors.map((a) => a.id);
      this.emit({ type: 'restart', actors, window: r, attempt: p.attempt, delayMs: p.delayMs });
    }
    this.commits.start(this.plan, r);
    this.doneWindow = r;
    const nodes = await Promise.race([this.waitForNodes(), outcome]);
    if (!isNodeList(nodes)) return nodes;
    const where = place(this.options.containers, nodes);
    this.placed = where.map((node, c) => ({
      container: c,
      actors: this.plan.actors.filter((a) => containerOf(a) === c).map((a) => a.id),
      node,
      done: r,
      tuples: 0,
      finished: false,
      operators: [],
    }));
    const urls = new Map(nodes.map((n) => [n.nodeId, n.dataUrl]));
    const config = this.deployConfig(r, replayableFrom, epochMs);
    const expected = this.plan.actors.map((a) => `${a.id}@${containerOf(a)}`).join(',');
    const links = this.links.map((l) => ({ ...l, toUrl: urls.get(where[l.to]!)! }));
    const deployed = Promise.all(
      this.nodesInUse().map(async (node) => {
        const hosted = this.placed.filter((p) => p.node === node);
        const req: DeployRequest = {
          app: this.app.name,
          module: this.options.module,
          epoch: this.epoch,
          containers: this.options.containers,
          storeLocation: this.store.location,
          hosted: hosted.map((p) => ({ container: p.container, actors: p.actors })),
          expected,
          links,
          config,
        };
        try {
          return (await this.nodes.call(node, 'deploy', req)) as number;
        } catch (e) {
          const p = hosted[0]!;
          throw new ContainerFailure(
            p.container,
            p.actors,
            r,
            `node ${node} could not deploy: ${describe(e)}`,
            e,
          );
        }
      }),
    ).then((logged) => Math.max(r, ...logged));
    const lastLogged = await Promise.race([deployed.catch(asOutcome), outcome]);
    if (typeof lastLogged !== 'number') return lastLogged;
    this.live = true;
    this.state = 'running';
    for (const node of this.nodesInUse())
      void this.nodes.call(node, 'start', this.app.name, this.epoch).catch(() => {});
    for (const p of this.placed) this.metrics.started(p.container);
    if (first) {
      this.emit({
        type: 'started',
        application: this.app.name,
        actors: this.plan.actors.length,
        firstWindow: lastLogged + 1,
        restoredWindow: r,
      });
    } else {
      const actors = this.plan.actors.map((a) => a.id);
      this.emit({ type: 'recovered', actors, window: r, ms: performance.now() - started });
    }
    if (this.stopRequested) void this.proposeStop();
    return outcome;
  }

  private async waitForNodes(): Promise<readonly NodeSlot[]> {
    const deadline = performance.now() + (this.options.placementTimeoutMs ?? 30_000);
    for (;;) {
      const nodes = await this.nodes.eligible(this.options.module, this.options.hash);
      if (nodes.length > 0) return nodes;
      if (performance.now() > deadline || this.killed)
        throw new ClusterPlacementError(
          `no node to place ${this.app.name} on: none joined, or none runs its build ${this.options.hash}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Whether a container of the current life is placed on `nodeId`. */
  placedOn(nodeId: string): boolean {
    return this.placed.some((p) => p.node === nodeId);
  }

  private nodesInUse(): string[] {
    return [...new Set(this.placed.map((p) => p.node))];
  }

  private async prepareStore(): Promise<number> {
    const stored = (await this.store.getMeta('epochMs')) as number | undefined;
    const epochMs = stored ?? Date.now();
    if (stored === undefined) await this.store.putMeta('epochMs', epochMs);
    // Fencing epoch: raised and durable before any container of the new life exists.
    const epoch = (await this.store.getMeta('epoch')) as number | undefined;
    this.epoch = Math.max(Math.max(this.epoch, epoch ?? 0) + 1, Date.now());
    await this.store.putMeta('epoch', this.epoch);
    return epochMs;
  }

  private deployConfig(r: number, replayableFrom: number, epochMs: number): DeployConfig {
    const o = this.options;
    return {
      restoreWindow: r,
      committed: r,
      replayableFrom,
      epoch: this.epoch,
      epochMs,
      streamingWindowMs: o.streamingWindowMs,
      checkpointWindowCount: o.checkpointWindowCount,
      windows: Number.isFinite(this.finalWindow) ? this.finalWindow : undefined,
      virtualTime: o.virtualTime,
      heartbeatMs: Math.max(20, Math.min(500, this.supervision.heartbeatTimeoutMs / 6)),
    };
  }

  // ---- what nodes report -------------------------------------------------------------------------

  /** A note from a node about this application (any epoch: older ones are ignored). */
  nodeEvent(nodeId: string, e: NodeEvent): void {
    if (e.t === 'hello' || e.epoch !== this.epoch) return;
    if (e.t === 'link-lost') {
      const p = this.placed.find((x) => x.node === nodeId);
      if (p) this.failed(p, `a data link of node ${nodeId} to ${e.remote} closed`);
      return;
    }
    const p = this.placed[e.c];
    if (p === undefined || p.node !== nodeId) return;
    if (e.t === 'died') this.failed(p, e.reason);
    else this.event(p, e.e);
  }

  /** A node left (closed, or declared dead after missed heartbeats): its containers failed. */
  nodeLost(nodeId: string, why: string): void {
    const p = this.placed.find((x) => x.node === nodeId);
    if (p) this.failed(p, `node ${nodeId} was lost (${why})`);
  }

  private failed(p: Placed, reason: string): void {
    const failure = new ContainerFailure(p.container, p.actors, this.doneWindow, reason);
    this.settle?.({ kind: 'failed', failure });
  }

  private event(p: Placed, e: ContainerEvent): void {
    switch (e.t) {
      case 'beat':
        p.operators = e.operators;
        if (e.metrics) this.metrics.beat(p, e.metrics);
        return;
      case 'tap':
        this.metrics.tap(e.tap, e.sample);
        return;
      case 'progress':
        p.done = e.window;
        p.tuples = e.tuples;
        this.progressed();
        return;
      case 'checkpointed': {
        this.emit({ type: 'checkpoint', actorId: e.actorId, window: e.window, ms: e.ms, bytes: e.bytes });
        const committed = this.commits.checkpointed(e.actorId, e.window);
        if (committed === undefined) return;
        this.emit({ type: 'commit', window: committed });
        this.notice({ t: 'commit', window: committed });
        return;
      }
      case 'status':
        this.emit(e.event);
        return;
      case 'failed':
        this.settle?.({ kind: 'failed', failure: operatorFailure(e.failure) });
        return;
      case 'finished':
        p.finished = true;
        if (this.placed.every((x) => x.finished || x.actors.length === 0)) this.settle?.({ kind: 'done' });
        return;
    }
  }

  private notice(n: MainNotice): void {
    for (const node of this.nodesInUse())
      this.nodes.note(node, { t: 'notice', app: this.app.name, epoch: this.epoch, n });
  }

  private progressed(): void {
    let min = Number.POSITIVE_INFINITY;
    let tuples = 0;
    for (const p of this.placed) {
      tuples += p.tuples;
      if (p.actors.length > 0 && p.done < min) min = p.done;
    }
    if (!(min > this.doneWindow) || !Number.isFinite(min)) return;
    while (this.doneWindow < min) this.emit({ type: 'window', window: ++this.doneWindow, tuples });
    this.notice({ t: 'done', window: min });
  }

  // ---- control -------------------------------------------------------------------------------------

  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.live) await this.proposeStop();
  }

  private async proposeStop(): Promise<void> {
    try {
      const nodes = this.nodesInUse();
      const epoch = this.epoch;
      const proposed = await Promise.all(
        nodes.map((n) => this.nodes.call(n, 'proposeStop', this.app.name, epoch)),
      );
      const final = Math.max(
        ...(proposed as (number | null)[][]).flat().filter((w): w is number => w !== null),
      );
      if (!Number.isFinite(final)) return;
      this.finalWindow = Math.min(this.finalWindow, final);
      for (const n of nodes)
        void this.nodes.call(n, 'setFinalWindow', this.app.name, epoch, this.finalWindow).catch(() => {});
    } catch {
      // A node was lost meanwhile: the restart carries the stop (stopRequested) to the next life.
    }
  }

  kill(): void {
    this.killed = true;
    this.settle?.({ kind: 'killed' });
  }

  failActor(actorId: string, reason: string): boolean {
    const p = this.placed.find((x) => x.actors.includes(actorId));
    if (p === undefined || !this.live) return false;
    void this.nodes.call(p.node, 'failActor', this.app.name, this.epoch, actorId, reason).catch(() => {});
    return true;
  }

  stats(): RunStats {
    return {
      window: this.doneWindow,
      committed: this.commits.committedWindow,
      restarts: this.restarts,
      tuples: this.placed.reduce((s, p) => s + p.tuples, 0),
      operators: this.placed.flatMap((p) => p.operators),
    };
  }

  private async terminateAll(): Promise<void> {
    this.live = false;
    const nodes = this.nodesInUse();
    await Promise.all(nodes.map((n) => this.nodes.call(n, 'terminate', this.app.name).catch(() => {})));
  }

  private emit(event: StatusEvent): void {
    this.metrics.onStatus(event);
    this.events.emit('status', event);
  }
}

function isNodeList(x: readonly NodeSlot[] | Outcome): x is readonly NodeSlot[] {
  return Array.isArray(x);
}

function asOutcome(e: unknown): Outcome {
  if (e instanceof ContainerFailure) return { kind: 'failed', failure: e };
  throw e;
}
