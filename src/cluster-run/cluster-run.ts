import { EventEmitter } from 'node:events';
import type { Application } from '../api/application.ts';
import { ContainerFailure } from '../container/errors.ts';
import { failureEvent, operatorFailure } from '../container/failures.ts';
import { crossLinks } from '../container/links.ts';
import type { ContainerEvent, DeployConfig, MainNotice } from '../container/protocol.ts';
import { countRestored, countStoredCheckpoints, replacementSet } from '../container/replacement.ts';
import { type ContainerSupervision, restartOrThrow } from '../container/supervision.ts';
import { TupleTally } from '../container/tuple-tally.ts';
import { describe, type OperatorFailure, stoppedInSetup } from '../engine/failure.ts';
import { findRestoreWindow, newestValidCheckpoint } from '../engine/restore.ts';
import type { OperatorStats, RunStats, StatusEvent } from '../engine/status.ts';
import type { Supervision } from '../engine/supervision.ts';
import { UnfinishedWindow } from '../engine/unfinished-window.ts';
import { containerOf } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import { type AnnouncedApp, awaitAdoptable, recoverCommits, writeHeldLogs } from './adoption.ts';
import { ClusterMetrics } from './cluster-metrics.ts';
import { ClusterPlacementError } from './errors.ts';
import type { ContainerState, DeployRequest, NodeEvent, RewireRequest } from './node-protocol.ts';
import { place, placeReplacements } from './placement.ts';
import type { ContainerProgress } from './supervisor-protocol.ts';

/** A node the supervisor can place containers on. */
export type NodeSlot = { readonly nodeId: string; readonly slots: number; readonly dataUrl: string };

/** How a cluster run reaches the nodes (the supervisor's membership implements it). */
export interface NodeDirectory {
  /** Live nodes that run the application's build (each checked from its own disk), in join order. */
  eligible(module: string, hash: string): Promise<NodeSlot[]>;
  call(nodeId: string, method: string, ...args: unknown[]): Promise<unknown>;
  note(nodeId: string, note: Record<string, unknown>): void;
  /** What the joined nodes announced running of `app` (containers kept through a supervisor restart). */
  announced?(app: string): readonly AnnouncedApp[];
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
  /** Containers' metrics (default on); `{ fusedTuples: true }` also counts fused streams (--console). */
  readonly metrics?: DeployConfig['metrics'];
  /**
   * A supervisor restarted on the store: first try to adopt the containers the nodes kept running (same
   * epoch, no relaunch); relaunch from the committed checkpoint only if that fails.
   */
  readonly adopt?: boolean;
  /** How long an adoption waits for the nodes to rejoin and announce. Default 5 s. */
  readonly adoptWaitMs?: number;
};

type Outcome =
  | { kind: 'done' }
  | { kind: 'killed' }
  | { kind: 'failed'; failure: OperatorFailure | ContainerFailure };

type Placed = {
  readonly container: number;
  readonly actors: readonly string[];
  readonly node: string;
  /** The epoch it was deployed in (a partial restart leaves the containers it keeps at theirs). */
  readonly epoch: number;
  /** Its node was asked to start it. */
  started: boolean;
  /**
   * Its node's connection closed (or the node was declared dead) since it was placed: the node stops it
   * even if it rejoins at once (the supervisor fences what a rejoining node kept), so it is replaced.
   */
  lost?: boolean;
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
  /** This run took over containers a previous supervisor had placed (no relaunch). */
  adopted = false;
  private placed: Placed[] = [];
  private finalWindow: number;
  private doneWindow = 0;
  private restarts = 0;
  private readonly tuples = new TupleTally();
  private stopRequested = false;
  /** The window a graceful stop leaves unfinished (a count window's hold outlasted), and who held it. */
  private readonly unfinished = new UnfinishedWindow();
  private killed = false;
  private live = false;
  private settle: ((o: Outcome) => void) | undefined;
  /** Failures reported while no life was pending (a backoff, a partial restart under way). */
  private queued: { p: Placed; failure: OperatorFailure | ContainerFailure }[] = [];
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
      counts: {
        load: () => this.store.getMeta('metricsCounts'),
        save: (counts) => this.store.putMeta('metricsCounts', counts),
      },
      warn: (message) => this.emit({ type: 'warning', message }),
    });
  }

  /** The metrics collector (what the supervisor's console and metrics endpoint serve). */
  get collector(): ClusterMetrics['collector'] {
    return this.metrics.collector;
  }

  get name(): string {
    return this.app.name;
  }

  /** The window a graceful stop left unfinished, once stopped so. */
  get unfinishedWindow(): number | undefined {
    return this.state === 'stopped' ? this.unfinished.window : undefined;
  }

  /** Container → node of the current life. */
  get placement(): Record<number, string> {
    return Object.fromEntries(this.placed.map((p) => [p.container, p.node]));
  }

  /** Where each container of the current life runs and how far it got (`sluice status --json`). */
  get progress(): ContainerProgress[] {
    return this.placed.map(({ container, node, epoch, done, finished }) => ({
      container,
      node,
      epoch,
      done,
      finished,
    }));
  }

  async execute(): Promise<void> {
    let reason: 'windows' | 'stop' | 'failure' = 'windows';
    await this.metrics.resume();
    // Taken over from a previous supervisor: its restarts are this run's too (`sluice status` and the
    // metrics then agree).
    if (this.options.adopt) this.restarts = this.metrics.collector.ownCounts().restarts;
    this.metrics.start();
    try {
      let outcome = await this.attempt(true);
      while (outcome.kind === 'failed') {
        // Ctrl-C while a setup waited on a server: a stop, not a failure (nothing ran past the commit).
        const stopped = this.stopRequested ? stoppedInSetup(outcome.failure) : undefined;
        if (stopped !== undefined) {
          this.emit({ type: 'warning', message: stopped });
          break;
        }
        this.state = 'recovering';
        const delayMs = this.decide(outcome.failure);
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        if (this.killed) break;
        // Only the lost containers and those downstream of them, when that is not all of them; else all
        // (the nodes reuse the workers of the containers they host: no terminateAll first).
        const partial = await this.replaceSome(outcome.failure);
        outcome = partial ?? (await this.attempt(false));
      }
      reason = this.stopRequested ? 'stop' : 'windows';
      this.state = this.killed ? 'killed' : this.stopRequested ? 'stopped' : 'done';
    } catch (e) {
      reason = 'failure';
      this.state = 'failed';
      throw e;
    } finally {
      await this.terminateAll();
      if (reason === 'failure' && !this.killed) {
        const ids = this.plan.actors.map((a) => a.id);
        await countStoredCheckpoints(this.store, this.commits, ids).catch(() => {});
      }
      const left = reason === 'stop' ? this.unfinished.window : undefined;
      const warning = reason === 'stop' ? this.unfinished.warning() : undefined;
      if (!this.killed && warning) this.emit({ type: 'warning', message: warning });
      if (!this.killed)
        this.emit({
          type: 'stopped',
          window: this.doneWindow,
          committed: this.commits.committedWindow,
          reason,
          ...(left !== undefined ? { unfinished: left } : {}),
        });
      this.metrics.stop();
    }
  }

  private decide(failure: OperatorFailure | ContainerFailure): number {
    this.emit(failureEvent(failure));
    this.pendingRestart = restartOrThrow(
      this.supervision,
      failure,
      this.options.checkpointWindowCount > 0,
      this.stopRequested,
      this.commits.committedWindow,
    );
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
      // A container of this life that failed while no life was pending (replaced ones are not in it).
      // The first settles this life at once; the others of this life wait for the next.
      const live = this.queued.filter((q) => this.placed.includes(q.p));
      this.queued = live.slice(1);
      if (live[0]) this.settle({ kind: 'failed', failure: live[0].failure });
    });
  }

  /**
   * One life: place every container on the live nodes, deploy at the restore window, start. A restart
   * keeps each container on its node if that node lives (placeReplacements), and the nodes reuse the
   * workers of the containers they hosted (`recycle`): only the lost node's containers need a spare or
   * a new worker.
   */
  private async attempt(first: boolean): Promise<Outcome> {
    const started = performance.now();
    const before = this.placed;
    this.placed = [];
    const outcome = this.newLife();
    if (this.killed) return { kind: 'killed' };
    if (first && this.options.adopt && (await this.adopt())) return outcome;
    // The life this one replaces: what its nodes cut while none of them reached a supervisor (every
    // connection cut, say) is written below, once nodes are back, before anything reads the window logs.
    const ended = (await this.store.getMeta('epoch')) as number | undefined;
    const epochMs = await this.prepareStore();
    const { window: r, warnings, untouched } = await findRestoreWindow(this.store, this.plan);
    this.storeUntouched = untouched;
    for (const message of warnings) this.emit({ type: 'warning', message });
    const replayableFrom = Math.min(r, ((await this.store.getMeta('replayableFrom')) as number) ?? 0);
    if (!first) {
      const p = this.pendingRestart ?? { attempt: 0, delayMs: 0 };
      const actors = this.plan.actors.map((a) => a.id);
      this.emit({
        type: 'restart',
        actors,
        window: r,
        attempt: p.attempt,
        restarts: this.restarts,
        delayMs: p.delayMs,
      });
    }
    this.commits.start(this.plan, r);
    this.doneWindow = r;
    const nodes = await Promise.race([this.waitForNodes(), outcome]);
    if (!isNodeList(nodes)) return nodes;
    if (ended !== undefined) await this.writeHeldLogs(ended);
    const where = first ? place(this.options.containers, nodes) : keptPlacement(before, nodes, this.options);
    this.placed = where.map((node, c) => ({
      container: c,
      actors: this.plan.actors.filter((a) => containerOf(a) === c).map((a) => a.id),
      node,
      epoch: this.epoch,
      started: false,
      done: r,
      tuples: 0,
      finished: false,
      operators: [],
    }));
    const urls = new Map(nodes.map((n) => [n.nodeId, n.dataUrl]));
    const config = this.deployConfig(r, r, replayableFrom, epochMs);
    const expected = this.plan.actors.map((a) => `${a.id}@${containerOf(a)}`).join(',');
    const links = this.links.map((l) => ({ ...l, toUrl: urls.get(where[l.to]!)! }));
    // A live node of the previous life given nothing now stops its containers (a deploy ends the others).
    for (const node of new Set(before.map((p) => p.node)))
      if (!where.includes(node)) void this.callNode(node, 'terminate').catch(() => {});
    const deployed = Promise.all(
      this.nodesInUse().map((node) => {
        const hosted = this.placed.filter((p) => p.node === node);
        const req = this.deployRequest(hosted, expected, links, config);
        return this.deployOn(node, hosted, r, first ? req : { ...req, recycle: true });
      }),
    ).then((logged) => Math.max(r, ...logged));
    const lastLogged = await Promise.race([deployed.catch(asOutcome), outcome]);
    if (typeof lastLogged !== 'number') return lastLogged;
    this.live = true;
    this.state = 'running';
    for (const node of this.nodesInUse())
      void this.nodes.call(node, 'start', this.app.name, this.epoch).catch(() => {});
    for (const p of this.placed) {
      p.started = true;
      this.metrics.started(p.container);
    }
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

  /**
   * Replaces the failed container, every container of a node that is gone, and every container downstream
   * of them, leaving the others running where they are (ContainerRun.replaceSome, across nodes): the
   * replaced containers are placed on live nodes (where they were, if that node lives), restore at the
   * newest checkpoint their actors all have, and the live producers feeding them re-link to their nodes
   * and replay what they kept since the commit. Undefined when that would be every container: then all
   * restart.
   */
  private async replaceSome(failure: OperatorFailure | ContainerFailure): Promise<Outcome | undefined> {
    const failed =
      failure instanceof ContainerFailure
        ? failure.container
        : this.plan.actors.find((a) => a.id === failure.actorId)?.container;
    if (failed === undefined || this.killed || this.placed.length === 0) return undefined;
    const nodes = await this.nodes.eligible(this.options.module, this.options.hash);
    const alive = new Set(nodes.map((n) => n.nodeId));
    const gone = this.placed.filter((p) => p.lost || !alive.has(p.node)).map((p) => p.container);
    const set = nodes.length > 0 ? replacementSet(this.links, [failed, ...gone], this.placed) : undefined;
    if (set === undefined || this.killed) return undefined;
    const started = performance.now();
    const old = this.placed;
    const replaced = old.filter((p) => set.has(p.container));
    const ids = replaced.flatMap((p) => p.actors);
    // Out of this life before anything else: what they say from now on is moot.
    this.placed = old.map((p) => (set.has(p.container) ? { ...p, epoch: -1 } : p));
    await Promise.all(
      [...new Set(replaced.map((p) => p.node))]
        .filter((n) => alive.has(n))
        .map((n) => this.callNode(n, 'retire', [...set]).catch(() => {})),
    );
    const epochMs = await this.prepareStore();
    const { window: r } = await newestValidCheckpoint(this.store, ids);
    const committed = this.commits.committedWindow;
    if (r < committed) return undefined; // a damaged snapshot: only a restart of everything can fall back
    const p0 = this.pendingRestart ?? { attempt: 0, delayMs: 0 };
    this.emit({
      type: 'restart',
      actors: ids,
      window: r,
      attempt: p0.attempt,
      restarts: this.restarts,
      delayMs: p0.delayMs,
    });
    const where = placeReplacements(old, set, nodes);
    // The kept ones stay the same objects (a failure of theirs queued meanwhile still counts).
    this.placed = old.map((p) =>
      set.has(p.container)
        ? {
            ...p,
            node: where.get(p.container)!,
            epoch: this.epoch,
            started: false,
            lost: false,
            done: r,
            tuples: 0,
          }
        : p,
    );
    const outcome = this.newLife();
    if (this.killed) return { kind: 'killed' };
    const urls = new Map(nodes.map((n) => [n.nodeId, n.dataUrl]));
    const nodeOf = (c: number) => this.placed[c]!.node;
    const deployed = (async () => {
      const replayableFrom = Math.min(
        committed,
        ((await this.store.getMeta('replayableFrom')) as number) ?? 0,
      );
      const config = this.deployConfig(r, committed, replayableFrom, epochMs);
      const expected = this.plan.actors.map((a) => `${a.id}@${containerOf(a)}`).join(',');
      const links = this.links
        .filter((l) => set.has(l.to))
        .map((l) => ({ ...l, toUrl: urls.get(nodeOf(l.to))! }));
      const targets = [...new Set([...set].map(nodeOf))];
      await Promise.all(
        targets.map((node) => {
          const hosted = this.placed.filter((p) => set.has(p.container) && p.node === node);
          return this.deployOn(node, hosted, r, {
            ...this.deployRequest(hosted, expected, links, config),
            replace: true,
          });
        }),
      );
      // Every node of a kept container: its streams into replaced ones re-link (maybe none: the call
      // still moves the app's epoch there to the new one).
      const keptOn = [...new Set(this.placed.filter((p) => !set.has(p.container)).map((p) => p.node))];
      await Promise.all(
        keptOn.map(async (node) => {
          const rewires: RewireRequest[] = links
            .filter((l) => !set.has(l.from) && nodeOf(l.from) === node)
            .map((l) => ({ container: l.from, channel: l.channel, toUrl: l.toUrl }));
          try {
            await this.callNode(node, 'rewire', this.epoch, rewires);
          } catch (e) {
            const p = this.placed.find((x) => x.node === node)!;
            throw new ContainerFailure(
              p.container,
              p.actors,
              r,
              `node ${node} could not re-link: ${describe(e)}`,
              e,
            );
          }
        }),
      );
      return true as const;
    })();
    const ready = await Promise.race([deployed.catch(asOutcome), outcome]);
    if (ready !== true) return ready;
    this.live = true;
    this.state = 'running';
    for (const node of [...new Set([...set].map(nodeOf))])
      void this.callNode(node, 'start', this.epoch).catch(() => {});
    for (const c of set) {
      this.placed[c]!.started = true;
      this.metrics.started(c);
    }
    const commit = countRestored(this.commits, ids, r);
    if (commit !== undefined) {
      this.emit({ type: 'commit', window: commit });
      this.notice({ t: 'commit', window: commit });
    }
    this.doneWindow = Math.min(this.doneWindow, r);
    // The replaced containers restored at r may be past the application's done window (a snapshot of an
    // earlier life, newer than this life reached): no progress event would then move pacing on.
    this.progressed();
    this.emit({ type: 'recovered', actors: ids, window: r, ms: performance.now() - started });
    if (this.stopRequested) void this.proposeStop();
    return outcome;
  }

  private callNode(node: string, method: string, ...args: unknown[]): Promise<unknown> {
    return this.nodes.call(node, method, this.app.name, ...args);
  }

  /** Deploys on one node; a node that cannot is a failure of the first container it was to host. */
  /** What a node needs to host `hosted` in the current epoch. */
  private deployRequest(
    hosted: readonly Placed[],
    expected: string,
    links: DeployRequest['links'],
    config: DeployRequest['config'],
  ): DeployRequest {
    return {
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
  }

  private async deployOn(
    node: string,
    hosted: readonly Placed[],
    r: number,
    req: DeployRequest,
  ): Promise<number> {
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
  }

  /**
   * Takes over the containers that nodes kept running through a supervisor restart (adoption.ts): the
   * epoch stays, the commit bookkeeping comes from the store, the nodes send what they held, and pacing
   * and commits resume where the containers are. False (nothing taken over): relaunch instead.
   */
  private async adopt(): Promise<boolean> {
    const epoch = (await this.store.getMeta('epoch')) as number | undefined;
    const announced = this.nodes.announced?.bind(this.nodes);
    if (epoch === undefined || announced === undefined) return false;
    const name = this.app.name;
    const where = await awaitAdoptable(
      () => announced(name),
      this.plan,
      this.options.containers,
      epoch,
      this.options.adoptWaitMs ?? 5000,
    );
    await this.writeHeldLogs(epoch);
    const fallback = (why: string) => {
      this.emit({ type: 'warning', message: `not adopted (${why}); relaunching from the commit` });
      this.placed = [];
      return false;
    };
    if (typeof where === 'string') return fallback(where);
    const r = await recoverCommits(this.store, this.plan, this.commits);
    this.epoch = epoch;
    this.doneWindow = r;
    // Indexed by container, as a deploy places them.
    this.placed = [...where]
      .sort(([a], [b]) => a - b)
      .map(([container, at]) => ({
        container,
        actors: this.plan.actors.filter((a) => containerOf(a) === container).map((a) => a.id),
        node: at.node,
        epoch: at.epoch,
        started: true,
        done: r,
        tuples: 0,
        finished: false,
        operators: [],
      }));
    let states: ContainerState[];
    try {
      // The store calls they flush arrive before each reply: this life's epoch and placement serve them.
      const replies = this.nodesInUse().map((n) => this.nodes.call(n, 'adopt', name, epoch));
      states = ((await Promise.all(replies)) as ContainerState[][]).flat();
    } catch (e) {
      return fallback(describe(e));
    }
    // Progress events of the nodes that answered first may already have moved a container further.
    for (const s of states) {
      const p = this.placed.find((x) => x.container === s.c);
      // Counters go on from the nodes' counts, before anything reads them.
      if (p && s.metrics) this.metrics.beat(p, s.metrics);
      if (p === undefined || s.done < p.done) continue;
      Object.assign(p, { done: s.done, finished: p.finished || s.finished });
      this.tuples.report(p, s.tuples);
    }
    this.adopted = true;
    this.live = true;
    this.state = 'running';
    const actors = this.plan.actors.length;
    this.emit({ type: 'started', application: name, actors, firstWindow: r + 1, restoredWindow: r });
    if (r > 0) this.notice({ t: 'commit', window: r });
    this.progressed();
    // Pacing from where they are, whatever notices the previous supervisor sent or not.
    this.notice({ t: 'done', window: this.doneWindow });
    if (this.placed.every((x) => x.finished || x.actors.length === 0)) this.settle?.({ kind: 'done' });
    if (this.stopRequested) void this.proposeStop();
    return true;
  }

  /**
   * The window-log entries the nodes held while no supervisor ran the application (windows cut
   * meanwhile) go into the store first, whether it adopts or relaunches (adoption.ts, writeHeldLogs);
   * `epoch` is the life they were cut in.
   */
  private async writeHeldLogs(epoch: number): Promise<void> {
    const nodes = await this.nodes.eligible(this.options.module, this.options.hash);
    const held = await Promise.all(
      nodes.map((n) => this.nodes.call(n.nodeId, 'heldLogs', this.app.name).catch(() => [])),
    );
    const written = await writeHeldLogs(this.store, epoch, held.flat());
    if (written > 0)
      this.emit({ type: 'warning', message: `${written} window-log entries held by the nodes written` });
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

  /** Set by each attempt from its store (findRestoreWindow): handed to the containers it deploys. */
  private storeUntouched = false;

  private deployConfig(r: number, committed: number, replayableFrom: number, epochMs: number): DeployConfig {
    const o = this.options;
    return {
      restoreWindow: r,
      storeUntouched: this.storeUntouched,
      committed,
      replayableFrom,
      epoch: this.epoch,
      epochMs,
      streamingWindowMs: o.streamingWindowMs,
      checkpointWindowCount: o.checkpointWindowCount,
      windows: Number.isFinite(this.finalWindow) ? this.finalWindow : undefined,
      virtualTime: o.virtualTime,
      heartbeatMs: Math.max(20, Math.min(500, this.supervision.heartbeatTimeoutMs / 6)),
      // Only when set: over CBOR an absent field may come back as null, and null is not `false` here.
      ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
    };
  }

  // ---- what nodes report -------------------------------------------------------------------------

  /** A note from a node about this application (any epoch: older ones are ignored). */
  nodeEvent(nodeId: string, e: NodeEvent): void {
    if (e.t === 'hello') return;
    if (e.t === 'link-lost') {
      this.linkLost(nodeId, e);
      return;
    }
    const p = this.placed[e.c];
    if (p === undefined || p.node !== nodeId || p.epoch !== e.epoch) return;
    if (e.t === 'died') this.failed(p, e.reason);
    else this.event(p, e.e);
  }

  /**
   * A node left (closed, or declared dead after missed heartbeats): every container of it failed, not
   * only the one the failure names. A node back before the restart looks is eligible again, but what it
   * ran is fenced (ClusterSupervisor.fenceStale): none of it can be kept.
   */
  nodeLost(nodeId: string, why: string): void {
    const lost = this.placed.filter((x) => x.node === nodeId);
    for (const p of lost) p.lost = true;
    if (lost[0]) this.failed(lost[0], `node ${nodeId} was lost (${why})`);
  }

  /**
   * A data link closed under a running stream: the container at its other end is blamed (a lost node's
   * links close on the survivors as soon as its connection closes here). A link of a stream whose consumer
   * was replaced since (its epoch is the consumer's deploy epoch) is stale.
   */
  private linkLost(nodeId: string, e: Extract<NodeEvent, { t: 'link-lost' }>): void {
    const link = this.links.find((l) => l.channel === e.channel);
    if (link === undefined || this.placed[link.to]?.epoch !== e.epoch) return;
    const [here, there] = e.side === 'out' ? [link.from, link.to] : [link.to, link.from];
    const blamed = this.placed[there];
    if (this.placed[here]?.node !== nodeId || blamed === undefined) return;
    // The blamed container is at the far end: its node is the one named (the reporter only saw it go).
    this.failed(
      blamed,
      `node ${nodeId} lost its stream ${e.channel} to this container on node ${blamed.node} (${e.remote})`,
    );
  }

  /** Whether a container of `nodeId` runs in `epoch` (its store calls are answered; others are fenced). */
  accepts(nodeId: string, epoch: number): boolean {
    return this.placed.some((p) => p.node === nodeId && p.epoch === epoch);
  }

  private failed(p: Placed, reason: string): void {
    // Its own progress when it is ahead of the application's (the slowest container's): the window it
    // had surely finished, consistent with the window a hang report names.
    const window = Math.max(this.doneWindow, p.done);
    this.failWith(p, new ContainerFailure(p.container, p.actors, window, reason));
  }

  /** Settles the pending life with a failure of `p`, or keeps it for the next life. */
  private failWith(p: Placed, failure: OperatorFailure | ContainerFailure): void {
    if (this.settle) this.settle({ kind: 'failed', failure });
    else this.queued.push({ p, failure });
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
        this.tuples.report(p, e.tuples);
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
        this.failWith(p, operatorFailure(e.failure));
        return;
      case 'unfinished':
        // Every container leaves it: one that closed it already has it in its window log (replayed).
        if (this.unfinished.heard(e.window, e.holding)) {
          const epoch = this.epoch;
          for (const n of this.nodesInUse())
            void this.nodes.call(n, 'abandon', this.app.name, epoch, e.window).catch(() => {});
        }
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
    for (const p of this.placed) if (p.actors.length > 0 && p.done < min) min = p.done;
    if (!(min > this.doneWindow) || !Number.isFinite(min)) return;
    this.storeUntouched = false; // windows of this store are done: a later deploy restarts on them
    const tuples = this.tuples.total;
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
      tuples: this.tuples.total,
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

/**
 * Where a restart of every container puts them: each on its node if that node is still eligible, a lost
 * node's spread over the others (placeReplacements); a fresh placement when there was none to keep (the
 * previous life never placed, or an adoption gave up).
 */
function keptPlacement(
  before: readonly Placed[],
  nodes: readonly NodeSlot[],
  o: ClusterRunOptions,
): string[] {
  if (before.length !== o.containers) return place(o.containers, nodes);
  const all = new Set(before.map((p) => p.container));
  const where = placeReplacements(before, all, nodes);
  return Array.from({ length: o.containers }, (_, c) => where.get(c)!);
}

function isNodeList(x: readonly NodeSlot[] | Outcome): x is readonly NodeSlot[] {
  return Array.isArray(x);
}

function asOutcome(e: unknown): Outcome {
  if (e instanceof ContainerFailure) return { kind: 'failed', failure: e };
  throw e;
}
