/// <reference path="./comlink.d.ts" />

import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import type { Application } from '../api/application.ts';
import { describe, type OperatorFailure, stoppedInSetup } from '../engine/failure.ts';
import { CHECKPOINTS_AHEAD } from '../engine/input-driver.ts';
import type { ContainerFault, LaunchOptions } from '../engine/launch-options.ts';
import { findRestoreWindow, newestValidCheckpoint } from '../engine/restore.ts';
import type { RunStats, StatusEvent } from '../engine/status.ts';
import type { Supervision } from '../engine/supervision.ts';
import { UnfinishedWindow } from '../engine/unfinished-window.ts';
import { containerOf } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { recoverySet } from '../plan/recovery-set.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import { ContainerHandle, type HandleListener } from './container-handle.ts';
import { ContainerMetrics } from './container-metrics.ts';
import { ApplicationDiffersError, ContainerFailure } from './errors.ts';
import { failureEvent, operatorFailure } from './failures.ts';
import { type CrossLink, connect, crossLinks, type PortsOf } from './links.ts';
import type { ContainerEvent, DeployConfig } from './protocol.ts';
import { countRestored, countStoredCheckpoints, replacementSet } from './replacement.ts';
import { SpareWorkers } from './spare-workers.ts';
import { type ContainerSupervision, restartOrThrow } from './supervision.ts';
import { TupleTally } from './tuple-tally.ts';

/** The launch options a container run has resolved (the rest as LaunchOptions). */
export interface ContainerRunOptions extends LaunchOptions {
  readonly containers: number;
  readonly module: string | URL;
  readonly streamingWindowMs: number;
  readonly checkpointWindowCount: number;
}

/** How long a container about to be replaced may take to send its last metrics report. */
const LAST_REPORT_MS = 300;

/**
 * Warm spare workers kept for replacements, at most: a restart replaces the failed container and those
 * downstream (often all), so one per container, within memory reason (~30 MB each).
 */
const MAX_SPARES = 4;

/**
 * How long after the first start the spares start: once the run has settled. Each costs ~1 s of CPU to
 * load (tsx, the engine, the application); on a machine of few cores, spares loading in the first seconds
 * took 20–30 % of a short run's throughput (2 containers on 2 cores, 2.5 s runs: 3.7–4.6 s of CPU without
 * them, 4.4–6.9 s with them starting at 1 s). A failure before then restarts from cold workers.
 */
const SPARES_AFTER_MS = 5000;

/** Who a restart rebuilds, as one thread names them (StatusEvent `restart` and `recovered`). */
interface RebuiltActors {
  readonly actors: readonly string[];
  readonly replaying: readonly string[];
}

type Outcome =
  | { kind: 'done' }
  | { kind: 'killed' }
  | { kind: 'failed'; failure: OperatorFailure | ContainerFailure };

/**
 * An application run over containers, driven from the main thread: it owns the store (one LevelDB owner:
 * containers send sealed snapshots), tracks commits for all containers together, paces the input operators
 * by the whole application's progress, and answers any failure — an operator's, or a container that died
 * or hung — by asking the container supervision, then restarting every container from the committed
 * checkpoint (the input operators replay their window logs), which is exact because every stream is
 * deterministic (docs/guarantees.md, Recovery; `replayFrom: 'sources'` does the same in one thread).
 *
 *   attempt:  restore window r ─▶ spawn N workers ─▶ deploy (restore actors at r) ─▶ start
 *               ▲                                                                   │
 *               └── restart (terminate all, backoff) ◀── failure ◀── failed / died / silent
 */
export class ContainerRun implements HandleListener {
  readonly events = new EventEmitter<{ status: [StatusEvent] }>();
  private handles: ContainerHandle[] = [];
  private finalWindow: number;
  private doneWindow = 0;
  private restarts = 0;
  private epoch = 0;
  private stopRequested = false;
  /** The window a graceful stop leaves unfinished (a count window's hold outlasted), and who held it. */
  private readonly unfinished = new UnfinishedWindow();
  private killed = false;
  private live = false;
  /** 'started' was emitted (a run refused before it, e.g. a store of another plan, never 'stopped'). */
  private announced = false;
  private settle: ((o: Outcome) => void) | undefined;
  private readonly fired = new Set<ContainerFault>();
  private readonly tuples = new TupleTally();
  /** The window this launch restored (its first attempt's): a drill at or below it was another run's. */
  private launchedAt: number | undefined;
  private readonly moduleUrl: string;
  private readonly links: CrossLink[];
  private pendingRestart: { attempt: number; delayMs: number } | undefined;
  /** The failure being recovered from (it names the restart line's recovery set). */
  private failure: OperatorFailure | ContainerFailure | undefined;
  /** Failures heard while no life was pending; `dropped` is told when its container was replaced anyway. */
  private queued: { handle: ContainerHandle; outcome: Outcome; dropped?: () => void }[] = [];
  /** Workers of replaced containers still winding down (awaited when the run ends). */
  private readonly exiting: Promise<void>[] = [];
  /** Containers being replaced, asked for their last metrics report: nothing else they say counts. */
  private readonly retiring = new Set<ContainerHandle>();
  /** What the workers report with their heartbeats, as `run.metrics()`; null with `metrics: false`. */
  readonly metrics: ContainerMetrics | null;
  /** Replacement workers, started once the run is live (a restart then loads no module). */
  private readonly spares: SpareWorkers;
  private fillLater: NodeJS.Timeout | undefined;

  constructor(
    private readonly app: Application,
    private readonly plan: PhysicalPlan,
    private readonly store: SnapshotStore,
    private readonly options: ContainerRunOptions,
    private readonly commits: Supervision,
    private readonly supervision: ContainerSupervision,
  ) {
    this.finalWindow = options.windows ?? Number.POSITIVE_INFINITY;
    this.links = crossLinks(plan);
    const m = options.module;
    this.moduleUrl = m instanceof URL ? m.href : m.startsWith('file:') ? m : pathToFileURL(m).href;
    this.spares = new SpareWorkers(
      { module: this.moduleUrl, applicationName: app.name, containers: options.containers },
      options.spareWorkers ?? Math.min(options.containers, MAX_SPARES),
    );
    this.metrics =
      options.metrics === false
        ? null
        : new ContainerMetrics(plan, {
            doneWindow: () => this.doneWindow,
            committed: () => this.commits.committedWindow,
            openTap: (c, tap, port, channels, sample) => {
              const h = this.handles[c];
              if (h?.started && !h.ended) h.api.openTap(tap, port, channels, sample).catch(() => {});
            },
            closeTap: (c, tap) => {
              const h = this.handles[c];
              if (h?.started && !h.ended) h.api.closeTap(tap).catch(() => {});
            },
          });
  }

  /** Attempts until the run is done, killed, or a failure escalates (thrown). */
  async execute(): Promise<void> {
    let reason: 'windows' | 'stop' | 'failure' = 'windows';
    const watch = setInterval(
      () => this.checkHeartbeats(),
      Math.max(50, this.supervision.heartbeatTimeoutMs / 4),
    );
    this.metrics?.start();
    try {
      let outcome = await this.attempt(true);
      while (outcome.kind === 'failed') {
        // Ctrl-C while a setup waited on a server: a stop, not a failure (nothing ran past the commit).
        const stopped = this.stopRequested ? stoppedInSetup(outcome.failure) : undefined;
        if (stopped !== undefined) {
          this.emit({ type: 'warning', message: stopped });
          break;
        }
        const delayMs = this.decide(outcome.failure);
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        if (this.killed) break;
        // Only the failed container and those downstream of it, when that is not all of them; else all.
        const partial = await this.replaceSome(outcome.failure);
        if (partial !== undefined) outcome = partial;
        else {
          await this.terminateAll(false);
          outcome = await this.attempt(false);
        }
      }
      reason = this.stopRequested ? 'stop' : 'windows';
    } catch (e) {
      reason = 'failure';
      throw e;
    } finally {
      clearInterval(watch);
      clearTimeout(this.fillLater);
      this.metrics?.stop();
      await Promise.all([this.terminateAll(true), this.spares.close(), ...this.exiting]);
      if (reason === 'failure' && !this.killed && this.announced) {
        const ids = this.plan.actors.map((a) => a.id);
        await countStoredCheckpoints(this.store, this.commits, ids).catch(() => {});
      }
      if (!this.killed && this.announced) {
        const left = reason === 'stop' ? this.unfinished.window : undefined;
        const warning = reason === 'stop' ? this.unfinished.warning() : undefined;
        if (warning) this.emit({ type: 'warning', message: warning });
        this.emit({
          type: 'stopped',
          window: this.doneWindow,
          committed: this.commits.committedWindow,
          reason,
          ...(left !== undefined ? { unfinished: left } : {}),
        });
      }
    }
  }

  /** Asks the supervision; returns the backoff, or throws the failure when it escalates. */
  private decide(failure: OperatorFailure | ContainerFailure): number {
    this.failure = failure;
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

  /** A new life for the containers: the outcome that the next failure, the end or a kill settles. */
  private newLife(): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      this.settle = (o) => {
        this.settle = undefined;
        this.live = false;
        resolve(o);
      };
      // A container that failed while no life was pending (during a backoff) and still runs.
      // (A container we ended for a drill or a missed heartbeat is still dead: its failure stands.)
      const queued = this.queued.filter(
        (q) =>
          this.handles.includes(q.handle) &&
          (!q.handle.ended || (q.outcome.kind === 'failed' && q.outcome.failure instanceof ContainerFailure)),
      );
      for (const q of this.queued) if (!queued.includes(q)) q.dropped?.();
      // The first settles this life at once; the others wait for the next (or are dropped with their containers).
      this.queued = queued.slice(1);
      if (queued.length > 0) this.settle(queued[0]!.outcome);
    });
  }

  /** Settles the pending life with a failure of `handle`, or keeps it for the next life. */
  private failedIn(handle: ContainerHandle, outcome: Outcome, dropped?: () => void): void {
    if (this.settle) this.settle(outcome);
    else this.queued.push({ handle, outcome, dropped });
  }

  /**
   * The restart line of one thread: `actors` the recovery set of the failed actor (of a failed container's
   * actors), `replaying` the other actors `rebuilt` with their containers only to recompute what the set
   * needs again. Returns both, for the `recovered` event.
   */
  private restartEvent(rebuilt: readonly string[], window: number): RebuiltActors {
    const f = this.failure;
    const set = recoverySet(this.plan, f instanceof ContainerFailure ? f.actors : f ? [f.actorId] : []);
    const lists: RebuiltActors =
      set.size === 0
        ? { actors: rebuilt, replaying: [] }
        : { actors: [...set], replaying: rebuilt.filter((id) => !set.has(id)) };
    const p = this.pendingRestart ?? { attempt: 0, delayMs: 0 };
    this.emit({
      type: 'restart',
      ...lists,
      window,
      attempt: p.attempt,
      restarts: this.restarts,
      delayMs: p.delayMs,
    });
    return lists;
  }

  /** One life of the containers: from the newest common checkpoint until done or the first failure. */
  private async attempt(first: boolean): Promise<Outcome> {
    const started = performance.now();
    const outcome = this.newLife();
    if (this.killed) return { kind: 'killed' };
    // The plan is checked first: a store of another plan is refused untouched (as in one thread).
    const { window: r, warnings, untouched } = await findRestoreWindow(this.store, this.plan);
    this.storeUntouched = untouched;
    this.launchedAt ??= r;
    const epochMs = await this.prepareStore();
    for (const message of warnings) this.emit({ type: 'warning', message });
    const replayableFrom = Math.min(r, ((await this.store.getMeta('replayableFrom')) as number) ?? 0);
    const lists = first
      ? undefined
      : this.restartEvent(
          this.plan.actors.map((a) => a.id),
          r,
        );
    this.commits.start(this.plan, r);
    this.doneWindow = r;
    // A stop asked before anything ran (Ctrl-C during start-up) ends at the restored checkpoint, as in one
    // thread: no window is opened only to be stopped (a dry count window would first hold it).
    if (first && this.stopRequested) this.finalWindow = Math.min(this.finalWindow, r);
    // Every container, those hosting no actors too: handles are indexed by container number.
    const all = new Set(Array.from({ length: this.options.containers }, (_, c) => c));
    this.handles = this.spawn(r, all, []);
    const deployed = (async () => {
      await this.checkPlanned(this.handles);
      const config = this.deployConfig(r, r, replayableFrom, epochMs);
      const { ports } = connect(
        this.links,
        this.options.containers,
        new Set(this.handles.map((h) => h.container)),
      );
      const logged = await Promise.all(
        this.handles.map((h) => this.deploy(h, r, config, ports[h.container]!)),
      );
      return Math.max(r, ...logged);
    })();
    const lastLogged = await Promise.race([deployed.catch(asOutcome), outcome]);
    if (typeof lastLogged !== 'number') return lastLogged;
    this.live = true;
    this.announced = true;
    for (const h of this.handles) this.start(h);
    // Not before: spares starting with the first containers would slow the start on a machine's few cores;
    // and not for a run over within a second or so (each spare costs a worker start-up of CPU).
    if (first) this.fillLater = setTimeout(() => this.spares.fill(), SPARES_AFTER_MS).unref();
    else this.spares.fill();
    if (first) {
      this.emit({
        type: 'started',
        application: this.app.name,
        actors: this.plan.actors.length,
        firstWindow: lastLogged + 1,
        restoredWindow: r,
      });
    } else {
      this.emit({ type: 'recovered', ...lists!, window: r, ms: performance.now() - started });
    }
    if (this.stopRequested) void this.proposeStop();
    return outcome;
  }

  /**
   * Replaces the failed container and every container downstream of it, leaving the others running: the
   * replaced actors restore at the newest checkpoint they all have, and the live producers feeding them
   * replay what they kept since the commit into new ports. Undefined when that would be every container
   * (or the failure names no container): then all restart.
   */
  private async replaceSome(failure: OperatorFailure | ContainerFailure): Promise<Outcome | undefined> {
    const failed =
      failure instanceof ContainerFailure
        ? failure.container
        : this.plan.actors.find((a) => a.id === failure.actorId)?.container;
    if (failed === undefined || this.killed) return undefined;
    // Everything, or containers that never started (a failure while deploying): all of them restart.
    const set = replacementSet(this.links, [failed], this.handles);
    if (set === undefined) return undefined;
    const started = performance.now();
    const outcome = this.newLife();
    const ids = this.plan.actors.filter((a) => set.has(containerOf(a))).map((a) => a.id);
    await Promise.all([...set].map((c) => this.retire(this.handles[c]!, false)));
    const epochMs = await this.prepareStore();
    const { window: r } = await newestValidCheckpoint(this.store, ids);
    const committed = this.commits.committedWindow;
    if (r < committed) return undefined; // a damaged snapshot: only a restart of everything can fall back
    const lists = this.restartEvent(ids, r);
    const fresh = this.spawn(r, set, this.handles);
    this.handles = fresh;
    const replaced = fresh.filter((h) => set.has(h.container));
    const deployed = (async () => {
      await this.checkPlanned(replaced);
      const replayableFrom = Math.min(
        committed,
        ((await this.store.getMeta('replayableFrom')) as number) ?? 0,
      );
      const config = this.deployConfig(r, committed, replayableFrom, epochMs);
      const { ports, rewire } = connect(this.links, this.options.containers, set);
      await Promise.all(replaced.map((h) => this.deploy(h, r, config, ports[h.container]!)));
      for (const { container, channel, port } of rewire) {
        await this.handles[container]!.api.rewire(channel, Comlink.transfer(port, [port]));
      }
      return true as const;
    })();
    const ready = await Promise.race([deployed.catch(asOutcome), outcome]);
    if (ready !== true) return ready;
    this.live = true;
    for (const h of replaced) this.start(h);
    for (const h of this.handles) if (!set.has(h.container)) h.notify({ t: 'restored', window: r });
    this.spares.fill();
    this.restoredAt(ids, r);
    this.doneWindow = Math.min(this.doneWindow, r);
    // The replaced containers restored at r may be past the application's done window (a snapshot of an
    // earlier life, newer than this life reached): no progress event would then move pacing on.
    this.progressed();
    this.emit({ type: 'recovered', ...lists, window: r, ms: performance.now() - started });
    if (this.stopRequested) void this.proposeStop();
    return outcome;
  }

  /** The replaced actors were restored at `r`: their snapshots of `r` count for the commit (countRestored). */
  private restoredAt(ids: readonly string[], r: number): void {
    const committed = countRestored(this.commits, ids, r);
    if (committed === undefined) return;
    this.emit({ type: 'commit', window: committed });
    for (const h of this.handles) h.notify({ t: 'commit', window: committed });
  }

  private start(h: ContainerHandle): void {
    h.started = true;
    void h.api.start();
    this.metrics?.started(h.container);
    // A drill that went off on a container being replaced anyway waits for its replacement: one restored
    // at or past the drill's window (at the run's last window, say) reports no such progress, so it is due now.
    this.fireFaults(h);
  }

  /**
   * A container that cannot restore its actors (an operator's constructor threw, a snapshot failed to
   * load) failed like one that died: restarted within the intensity, then escalated.
   */
  private deploy(h: ContainerHandle, r: number, config: DeployConfig, ports: PortsOf): Promise<number> {
    return h.deploy(config, this.store, ports).catch((e: unknown) => {
      throw new ContainerFailure(h.container, h.actors, r, `could not restore its actors: ${describe(e)}`, e);
    });
  }

  private async checkPlanned(handles: readonly ContainerHandle[]): Promise<void> {
    const planned = await Promise.all(handles.map((h) => h.api.actorIds()));
    const expected = this.plan.actors.map((a) => `${a.id}@${containerOf(a)}`).join(',');
    for (const [i, ids] of planned.entries()) {
      if (ids.join(',') !== expected)
        throw new ApplicationDiffersError(`container ${handles[i]!.container}`, expected.split(','), ids);
    }
  }

  private async prepareStore(): Promise<number> {
    const stored = (await this.store.getMeta('epochMs')) as number | undefined;
    const epochMs = stored ?? Date.now();
    if (stored === undefined) await this.store.putMeta('epochMs', epochMs);
    // Fencing epoch: raised and durable before any instance of the new containers exists.
    const epoch = (await this.store.getMeta('epoch')) as number | undefined;
    this.epoch = Math.max(Math.max(this.epoch, epoch ?? 0) + 1, Date.now());
    await this.store.putMeta('epoch', this.epoch);
    return epochMs;
  }

  /** New handles for the containers in `set`; the others stay as they are in `keep`. */
  private spawn(r: number, set: ReadonlySet<number>, keep: readonly ContainerHandle[]): ContainerHandle[] {
    const n = this.options.containers;
    return Array.from({ length: n }, (_, c) => {
      if (!set.has(c)) return keep[c]!;
      const actors = this.plan.actors.filter((a) => containerOf(a) === c).map((a) => a.id);
      const data = {
        module: this.moduleUrl,
        applicationName: this.app.name,
        container: c,
        containers: n,
      };
      return new ContainerHandle(c, actors, r, data, this, this.spares.take());
    });
  }

  /** Set by each attempt from its store (findRestoreWindow): handed to the containers it deploys. */
  private storeUntouched = false;

  private deployConfig(r: number, committed: number, replayableFrom: number, epochMs: number): DeployConfig {
    const o = this.options;
    const virtual = o.virtualTime;
    return {
      restoreWindow: r,
      storeUntouched: this.storeUntouched,
      committed,
      replayableFrom,
      epoch: this.epoch,
      epochMs,
      streamingWindowMs: o.streamingWindowMs,
      checkpointWindowCount: o.checkpointWindowCount,
      checkpointsAhead: CHECKPOINTS_AHEAD,
      windows: Number.isFinite(this.finalWindow) ? this.finalWindow : undefined,
      virtualTime: typeof virtual === 'object' ? { callsPerWindow: virtual.callsPerWindow } : virtual,
      lifecycleTimeoutMs: o.lifecycleTimeoutMs,
      mailboxCapacity: o.mailboxCapacity,
      batchSize: o.batchSize,
      metrics: o.metrics ?? true,
      heartbeatMs: Math.max(20, Math.min(500, this.supervision.heartbeatTimeoutMs / 6)),
    };
  }

  // ---- what containers report ---------------------------------------------------------------------

  event(h: ContainerHandle, e: ContainerEvent): void {
    // A late message of a replaced container, of one being replaced, or of one being killed (a drill at
    // the last window: its `finished` must not end the run before its death is heard).
    if (!this.handles.includes(h) || this.retiring.has(h) || h.ended) return;
    switch (e.t) {
      case 'progress':
        h.done = e.window;
        this.tuples.report(h, e.tuples);
        this.progressed();
        this.fireFaults(h);
        return;
      case 'checkpointed': {
        this.emit({ type: 'checkpoint', actorId: e.actorId, window: e.window, ms: e.ms, bytes: e.bytes });
        const committed = this.commits.checkpointed(e.actorId, e.window);
        if (committed === undefined) return;
        this.emit({ type: 'commit', window: committed });
        for (const other of this.handles) other.notify({ t: 'commit', window: committed });
        return;
      }
      case 'status':
        this.emit(e.event);
        return;
      case 'failed':
        this.failedIn(h, { kind: 'failed', failure: operatorFailure(e.failure) });
        return;
      case 'unfinished':
        // Every container leaves it: one that closed it already has it in its window log (replayed).
        if (this.unfinished.heard(e.window, e.holding)) {
          const w = e.window;
          for (const other of this.handles) if (!other.ended) other.api.abandon(w).catch(() => {});
        }
        return;
      case 'finished':
        h.finished = true;
        if (this.handles.every((x) => x.finished || x.actors.length === 0)) this.settle?.({ kind: 'done' });
        return;
      case 'beat':
        if (e.metrics) this.metrics?.absorb(h, e.metrics);
        return;
      case 'tap':
        this.metrics?.tapSample(e.tap, e.sample);
        return;
    }
  }

  /**
   * Returns false when `h` was already replaced or being replaced: its death changes nothing. `dropped`:
   * told if the failure, heard during a restart, is dropped because that restart replaces `h` anyway.
   */
  died(
    h: ContainerHandle,
    reason: string,
    cause?: unknown,
    drill?: string,
    dropped?: () => void,
    inWindow?: number,
  ): boolean {
    if (!this.handles.includes(h) || this.retiring.has(h)) return false;
    // Its own progress when it is ahead of the application's (the slowest container's): the window it
    // had surely finished, consistent with the window a hang report names.
    const window = Math.max(this.doneWindow, h.done);
    this.failedIn(
      h,
      {
        kind: 'failed',
        failure: new ContainerFailure(h.container, h.actors, window, reason, cause, drill, inWindow),
      },
      dropped,
    );
    return true;
  }

  /** The application's done window: the oldest of the containers that host actors. */
  private progressed(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const h of this.handles) if (h.actors.length > 0 && h.done < min) min = h.done;
    if (!(min > this.doneWindow) || !Number.isFinite(min)) return;
    this.storeUntouched = false; // windows of this store are done: a later deploy restarts on them
    const tuples = this.tuples.total;
    while (this.doneWindow < min) this.emit({ type: 'window', window: ++this.doneWindow, tuples });
    for (const h of this.handles) h.notify({ t: 'done', window: min });
  }

  private fireFaults(h: ContainerHandle): void {
    for (const fault of this.options.faults ?? []) {
      if (this.fired.has(fault) || fault.container !== h.container || h.done < fault.window) continue;
      // A relaunch that restored past the drill's window never starts it: the drill does not fire.
      if (fault.window <= (this.launchedAt ?? 0)) continue;
      this.fired.add(fault);
      // A hard kill, as a crash would be: the worker is gone without a word.
      const drill = `container:${fault.container}@${fault.window}`;
      // Killed while another failure's restart was replacing it: the drill fires on its replacement.
      const again = () => this.fired.delete(fault);
      void h.terminate().then(() => {
        if (!this.died(h, `killed by the drill ${drill}`, undefined, drill, again)) again();
      });
    }
  }

  private checkHeartbeats(): void {
    // Also while containers are being deployed or rewired (a live producer could hang then too).
    if (this.settle === undefined) return;
    const now = performance.now();
    const limit = this.supervision.heartbeatTimeoutMs;
    for (const h of this.handles) {
      // One we ended ourselves (a drill, a hang found before, a replacement) is silent because it is
      // dead, and whoever ended it reports that death: reporting it again here cost a second restart.
      if (h.ended || this.retiring.has(h)) continue;
      const reason = h.hangReport(now, limit);
      if (reason === undefined) continue;
      // Stuck in synchronous code (an endless loop in an operator): only terminate() ends it.
      const stuck = h.callingNow();
      void h.terminate();
      this.died(h, reason, undefined, undefined, undefined, stuck?.window);
      return;
    }
  }

  // ---- Run ------------------------------------------------------------------------------------

  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.live) await this.proposeStop();
  }

  /** Every container with input operators names its stop window; all end at the latest of them. */
  private async proposeStop(): Promise<void> {
    const handles = this.handles;
    try {
      const proposed = await Promise.all(handles.map((h) => h.api.proposeStop()));
      const final = Math.max(...proposed.filter((w): w is number => w !== undefined));
      if (!Number.isFinite(final)) return;
      this.finalWindow = Math.min(this.finalWindow, final);
      for (const h of handles) void h.api.setFinalWindow(this.finalWindow);
    } catch {
      // A container died meanwhile: the restart carries the stop (stopRequested) to the next attempt.
    }
  }

  /** A failure drill: the actor fails in its container as if its operator threw. */
  failActor(actorId: string, reason: string): boolean {
    const h = this.handles.find((x) => x.actors.includes(actorId));
    if (h === undefined || !this.live) return false;
    void h.api.failActor(actorId, reason);
    return true;
  }

  kill(): void {
    this.killed = true;
    this.settle?.({ kind: 'killed' });
  }

  stats(): RunStats {
    return {
      window: this.doneWindow,
      committed: this.commits.committedWindow,
      restarts: this.restarts,
      tuples: this.tuples.total,
      operators: this.handles.flatMap((h) => h.operators),
    };
  }

  private async terminateAll(awaitExit: boolean): Promise<void> {
    const handles = this.handles;
    this.live = false;
    await Promise.all(handles.map((h) => this.retire(h, awaitExit)));
  }

  /**
   * Terminates a container, first taking its last metrics report if it still answers (a container
   * replaced with a failed one, or restarted with all): what it counted since its last heartbeat.
   */
  private async retire(h: ContainerHandle, awaitExit: boolean): Promise<void> {
    if (this.metrics && h.started && !h.ended && !h.finished && !this.killed) {
      this.retiring.add(h);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), LAST_REPORT_MS);
      });
      const report = await Promise.race([h.api.metricsReport().catch(() => undefined), late]);
      clearTimeout(timer);
      if (report && !h.ended) this.metrics.absorb(h, report);
    }
    // Its ports to this thread close at once (no event, no store write of it lands from here on; a sink
    // it still writes is fenced by the epoch): a restart need not wait for the thread to wind down,
    // which took ~0.5 s of a 0.8 s restart on a loaded machine.
    const exited = h.terminate();
    this.retiring.delete(h);
    if (awaitExit) await exited;
    else this.exiting.push(exited);
  }

  private emit(event: StatusEvent): void {
    this.metrics?.onStatus(event);
    this.events.emit('status', event);
  }
}

/** A container that could not restore is a failure outcome; anything else is a bug: thrown. */
function asOutcome(e: unknown): Outcome {
  if (e instanceof ContainerFailure) return { kind: 'failed', failure: e };
  throw e;
}
