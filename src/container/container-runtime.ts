import type { MessagePort } from 'node:worker_threads';
import { SluiceError } from '../core/errors.ts';
import type { Actor, ActorSnapshot } from '../engine/actor.ts';
import { ActorGraph } from '../engine/actor-graph.ts';
import type { ActorHost } from '../engine/actor-host.ts';
import type { Channel, ChannelSource } from '../engine/channel.ts';
import { Checkpoints } from '../engine/checkpoints.ts';
import { describe, isStopAbort, OperatorFailure, setupEndedByStop } from '../engine/failure.ts';
import { InputActor } from '../engine/input-actor.ts';
import { commitHorizon, InputDriver } from '../engine/input-driver.ts';
import { isPromise } from '../engine/maybe-async.ts';
import { metricsSource } from '../engine/metrics-source.ts';
import { operatorStats } from '../engine/operator-stats.ts';
import { Recovery } from '../engine/recovery.ts';
import { loadSnapshots } from '../engine/restore.ts';
import type { OperatorStats, StatusEvent } from '../engine/status.ts';
import type { Supervision } from '../engine/supervision.ts';
import { hooksInFlight } from '../engine/unfinished-window.ts';
import { Waker, yieldToEventLoop } from '../engine/waker.ts';
import { RealTimeWindows, VirtualTimeWindows } from '../engine/window-generator.ts';
import { type Tap, type TapSample, Taps } from '../metrics/taps.ts';
import { type MetricsReport, WorkerMetrics } from '../metrics/worker-report.ts';
import type { ChannelPlan, PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import { PortChannelOut } from './port-channel.ts';
import type { ContainerEvent, DeployConfig, FailureInfo } from './protocol.ts';

const SLICE_MS = 10;
const STEP_BUDGET = 32;
const IDLE_WAIT_MS = 50;

/**
 * The actors of one container, scheduled in its worker thread as `Runtime` schedules a whole application
 * in one (sinks first, inputs while there is room), with what only the main thread can decide left to it:
 *
 * - commits: a durable snapshot is reported (`checkpointed`); the commit comes back as a notice
 *   (`commit(w)`) and is applied here (buffers, `committed` hooks, this container's old snapshots);
 * - pacing: input operators open a window once the whole application (not only this container) finished
 *   the window WINDOWS_IN_FLIGHT before it (`applicationDone`, sent by the main thread);
 * - failures: reported, and the loop stops; the main thread's container supervisor restarts every
 *   container from the committed checkpoint (or escalates).
 */
export class ContainerRuntime implements ActorHost {
  readonly applicationName: string;
  readonly streamingWindowMs: number;
  readonly checkpointWindowCount: number;
  readonly lifecycleTimeoutMs: number;
  readonly epoch: number;
  finalWindow = Number.POSITIVE_INFINITY;

  private readonly graph: ActorGraph;
  private readonly inputs: InputDriver;
  private readonly recovery: Recovery;
  private readonly checkpoints: Checkpoints;
  private readonly waker = new Waker();
  private readonly now = () => performance.now();
  private doneWindow = 0;
  /** The newest window every actor of the application finished (main thread's notice). */
  private applicationDone = 0;
  private committed = 0;
  /** The newest window this container or another was restored at in this life (see commitHorizon). */
  private restoredAt = 0;
  private tuples = 0;
  private failed = false;
  private killed = false;
  /** Aborted at a stop's proposal and at kill() (ActorHost.stopSignal). */
  private readonly stopping = new AbortController();
  readonly stopSignal: AbortSignal = this.stopping.signal;
  /** The main thread heard that this container leaves a window unfinished (InputDriver.abandoned). */
  private toldUnfinished = false;
  private hasInputs = false;
  /** Null with `metrics: false`; else reported with each heartbeat. */
  private readonly metrics: WorkerMetrics | null = null;
  private readonly taps: Taps | null = null;
  private readonly openTaps = new Map<number, Tap>();
  /** The duration and size of the snapshot being reported (emitted just before `checkpointed`). */
  private lastCheckpoint: { ms?: number; bytes?: number } = {};

  constructor(
    private readonly plan: PhysicalPlan,
    private readonly store: SnapshotStore,
    private readonly config: DeployConfig,
    private readonly send: (event: ContainerEvent) => void,
    channelFor: (plan: ChannelPlan, capacity: number, source: ChannelSource) => Channel | undefined,
  ) {
    this.applicationName = plan.applicationName;
    this.streamingWindowMs = config.streamingWindowMs;
    this.checkpointWindowCount = config.checkpointWindowCount;
    this.lifecycleTimeoutMs = config.lifecycleTimeoutMs ?? 60_000;
    this.epoch = config.epoch;
    if (config.windows !== undefined) this.finalWindow = config.windows;
    const virtual = config.virtualTime;
    const generator = virtual
      ? new VirtualTimeWindows(typeof virtual === 'object' ? virtual.callsPerWindow : undefined)
      : new RealTimeWindows(config.streamingWindowMs);
    this.graph = new ActorGraph(plan, this, {
      mailboxCapacity: config.mailboxCapacity,
      batchSize: config.batchSize,
      checkpointWindowCount: config.checkpointWindowCount,
      // Every recovery restarts all containers from the commit: nothing is replayed from buffers.
      replayFrom: 'sources',
      channelFor,
      metrics: config.metrics,
    });
    if (config.metrics !== false) {
      const source = metricsSource(plan, this.graph, {
        liveWindow: () => this.inputs.liveWindow,
        doneWindow: () => this.doneWindow,
        committed: () => this.committed,
      });
      this.metrics = new WorkerMetrics(source);
      this.taps = new Taps(source);
    }
    this.recovery = new Recovery(this.graph, store);
    this.checkpoints = new Checkpoints(plan, this.graph, store, this.supervision(), {
      emit: (event) => this.emit(event),
      fail: (actor, e) => this.fail(actor.tag('checkpoint', e)),
      landed: () => this.waker.wake(),
      killed: () => this.killed,
    });
    this.inputs = new InputDriver(generator, this.now, {
      finalWindow: () => this.finalWindow,
      inputs: () => this.graph.inputActors,
      doneWindow: () => Math.min(this.doneWindow, this.applicationDone),
      commitHorizon: this.commitHorizon(config),
    });
  }

  /** Builds this container's actors at the application's restore window; returns its last logged window. */
  async restore(): Promise<number> {
    const r = this.config.restoreWindow;
    const ids = this.plan.actors.map((a) => a.id);
    const snapshots = await loadSnapshots(this.store, ids, r);
    await this.recovery.restore(new Set(ids), r, snapshots);
    this.hasInputs = this.graph.inputActors.length > 0;
    let lastLogged = Number.POSITIVE_INFINITY;
    for (const a of this.graph.inputActors) lastLogged = Math.min(lastLogged, r + a.replayLog.size);
    // The application's commit: r itself at a launch, older when only some containers were replaced.
    this.checkpoints.committed = this.config.committed;
    this.checkpoints.replayableFrom = this.config.replayableFrom;
    this.committed = this.config.committed;
    this.doneWindow = r;
    this.applicationDone = r;
    this.restoredAt = Math.max(this.restoredAt, r);
    this.inputs.startAfter(Number.isFinite(lastLogged) ? lastLogged : r);
    return Number.isFinite(lastLogged) ? lastLogged : r;
  }

  /** Sets up every actor, then schedules until the final window is done and committed, or a failure. */
  async run(): Promise<void> {
    this.metrics?.start();
    for (const a of this.graph.actors) {
      try {
        const r = a.setup();
        if (isPromise(r)) await r;
      } catch (e) {
        // Ended by a stop: still sent as a failure, so this container runs no window (another may have
        // opened one already), which the main thread logs as a warning and ends as a stop.
        const stopped =
          isStopAbort(e, this.stopSignal) &&
          new SluiceError('SLUICE_STOPPED', setupEndedByStop(a.id, e, true));
        this.fail(a.tag('setup', stopped || e));
      }
    }
    await this.loop();
    this.metrics?.stop();
    this.checkpoints.closeWindowLog();
    if (this.failed || this.killed) return;
    for (const a of this.graph.actors) {
      try {
        await a.teardown();
      } catch (e) {
        this.emit({ type: 'warning', message: `teardown of ${a.id}: ${describe(e)}` });
      }
    }
    // A last beat: the main thread's stats() after the run show where every actor ended.
    this.send({ t: 'beat', operators: this.operatorStats(), metrics: this.metricsReport() });
    this.send({ t: 'finished' });
  }

  /** A graceful stop's last window as this container sees it (its live window); opens no later one. */
  proposeStop(): number | undefined {
    this.stopping.abort();
    if (!this.hasInputs) return undefined;
    const w = this.inputs.beginStop();
    this.finalWindow = Math.min(this.finalWindow, w);
    return w;
  }

  /**
   * The application leaves window `w` unfinished (a stop outlasted a count window's hold, here or in
   * another container): nothing more goes into it; this container ends once the windows before it are
   * done, with no checkpoint at the stop, so a relaunch reads `w` again.
   */
  abandon(w: number): void {
    this.inputs.abandoned = Math.min(this.inputs.abandoned ?? w, w);
    this.waker.wake();
  }

  setFinalWindow(w: number): void {
    this.finalWindow = w;
    for (const a of this.graph.actors) a.checkpointFinal(w);
    this.waker.wake();
  }

  noteApplicationDone(w: number): void {
    this.applicationDone = w;
    this.waker.wake();
  }

  /** A partial restart restored containers at `w`: they commit only past it. */
  noteRestored(w: number): void {
    if (w <= this.restoredAt) return;
    this.restoredAt = w;
    this.waker.wake();
  }

  /**
   * Live windows open at most `checkpointsAhead` checkpoint intervals past the commit, or past the newest
   * restore window (containers restored there, perhaps from an earlier life's snapshot, commit only past
   * it), so virtual-time windows cannot outrun the store (InputDriver, CHECKPOINTS_AHEAD).
   */
  private commitHorizon(config: DeployConfig): (() => number) | undefined {
    const ahead = config.checkpointsAhead;
    if (ahead === undefined || config.checkpointWindowCount === 0) return undefined;
    const every = config.checkpointWindowCount;
    return () => commitHorizon(Math.max(this.committed, this.restoredAt), every, ahead);
  }

  noteCommitted(w: number): void {
    if (w <= this.committed) return;
    this.committed = w;
    this.checkpoints.commit(w);
    this.waker.wake();
  }

  rewire(channelId: number, port: MessagePort): void {
    const channel = this.graph.channels.get(channelId);
    if (channel instanceof PortChannelOut) channel.rewire(port);
  }

  /** A drill: the actor fails now, in its current window, as if its operator threw. */
  failActor(actorId: string, reason: string): void {
    const actor = this.graph.byId.get(actorId);
    if (actor) this.fail(actor.tag('tuple', new Error(reason)));
  }

  kill(): void {
    this.killed = true;
    this.stopping.abort();
    this.metrics?.stop();
    for (const t of this.openTaps.values()) t.close();
    this.waker.wake();
  }

  /**
   * Stops for good and ends its actors as an in-thread recovery ends the ones it replaces (disposed: late
   * callbacks do nothing; torn down, for at most `timeoutMs`), so the worker can host a new deploy: what a
   * terminated worker would have freed (an operator's sockets, files, timers) is released by teardown.
   */
  async retire(timeoutMs: number): Promise<void> {
    this.kill();
    for (const a of this.graph.actors) a.dispose();
    this.checkpoints.closeWindowLog();
    const ended = Promise.allSettled(this.graph.actors.map(async (a) => a.teardown()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
    });
    await Promise.race([ended, late]);
    clearTimeout(timer);
  }

  /** What the heartbeat carries to the main thread's collector (undefined with `metrics: false`). */
  metricsReport(): MetricsReport | undefined {
    return this.metrics?.report();
  }

  /** A tap on the channels of a port that this container writes; samples go to the main thread. */
  openTap(tap: number, port: string, channels: readonly number[], sample: number): void {
    if (this.taps === null || this.openTaps.has(tap)) return;
    const deliver = (s: TapSample) => this.send({ t: 'tap', tap, sample: s });
    this.openTaps.set(tap, this.taps.openChannels(port, channels, sample, deliver));
  }

  closeTap(tap: number): void {
    this.openTaps.get(tap)?.close();
    this.openTaps.delete(tap);
  }

  operatorStats(): OperatorStats[] {
    return operatorStats(this.graph.actors);
  }

  // ---- ActorHost -------------------------------------------------------------------------------

  get storeUntouched(): boolean {
    return this.config.storeUntouched ?? false;
  }

  warn(message: string): void {
    this.emit({ type: 'warning', message });
  }

  windowStartMs(window: number): number {
    return this.config.epochMs + (window - 1) * this.streamingWindowMs;
  }

  /** The first failure stops this container; the main thread decides what happens next. */
  fail(failure: OperatorFailure): void {
    if (this.failed || this.killed) return;
    this.failed = true;
    this.send({ t: 'failed', failure: failureInfo(failure) });
    this.waker.wake();
  }

  wake(): void {
    this.waker.wake();
  }

  windowOpened(window: number): void {
    this.metrics?.windowOpened(window);
  }

  windowEnded(actor: Actor, window: number): void {
    this.metrics?.windowEnded(actor.id, window);
    if (actor instanceof InputActor) this.tuples += actor.emittedInWindow;
    const min = this.graph.ends.ended(actor, window);
    if (min > this.doneWindow) {
      this.doneWindow = min;
      this.send({ t: 'progress', window: min, tuples: this.tuples });
    }
  }

  saveCheckpoint(actor: Actor, window: number, snapshot: ActorSnapshot): void {
    this.checkpoints.save(actor, window, snapshot);
  }

  appendWindowLog(actor: Actor, window: number, counts: number[]): void | Promise<void> {
    return this.checkpoints.appendWindowLog(actor, window, counts);
  }

  // ---- the scheduler (as Runtime.loop, without recovery) -------------------------------------------

  private async loop(): Promise<void> {
    for (;;) {
      if (this.killed || this.failed) return;
      if (this.finished()) return;
      const sliceEnd = this.now() + SLICE_MS;
      let progressed = false;
      try {
        do {
          progressed = this.graph.drain(STEP_BUDGET);
          progressed = this.inputs.drive() || progressed;
        } while (progressed && !this.failed && !this.killed && this.now() < sliceEnd);
      } catch (e) {
        this.fail(
          e instanceof OperatorFailure ? e : new OperatorFailure('runtime', 'runtime', 0, 'tuple', e),
        );
        continue;
      }
      if (progressed) await yieldToEventLoop();
      else await this.waker.wait(this.inputs.idleWait(IDLE_WAIT_MS));
    }
  }

  private finished(): boolean {
    const left = this.inputs.abandoned;
    if (left !== undefined) {
      if (!this.toldUnfinished) {
        this.toldUnfinished = true;
        this.send({ t: 'unfinished', window: left, holding: this.inputs.holdingInputs() });
      }
      if (this.doneWindow < left - 1 || this.checkpoints.writing) return false;
      return !this.graph.actors.some(hooksInFlight);
    }
    if (!Number.isFinite(this.finalWindow)) return false;
    if (this.doneWindow < this.finalWindow || this.checkpoints.writing) return false;
    if (this.graph.actors.some((a) => a.busy || a.hasPendingHooks)) return false;
    return this.checkpointWindowCount === 0 || this.committed >= this.finalWindow;
  }

  /** Commits are the main thread's: checkpoints are reported there, the commit comes back as a notice. */
  private supervision(): Supervision {
    const runtime = this;
    return {
      start() {},
      checkpointed(actorId, window) {
        const { ms, bytes } = runtime.lastCheckpoint;
        runtime.lastCheckpoint = {};
        runtime.metrics?.checkpointed(actorId, ms, bytes);
        runtime.send({ t: 'checkpointed', actorId, window, ms, bytes });
        return undefined;
      },
      get committedWindow() {
        return runtime.committed;
      },
      failed() {
        return { action: 'escalate', reason: 'containers are supervised from the main thread' };
      },
    };
  }

  private emit(event: StatusEvent): void {
    // Checkpoint events are many: their figures ride on the `checkpointed` notice that follows them.
    if (event.type === 'checkpoint') this.lastCheckpoint = { ms: event.ms, bytes: event.bytes };
    if (event.type === 'warning') this.send({ t: 'status', event });
  }
}

function failureInfo(f: OperatorFailure): FailureInfo {
  const cause = f.cause as { name?: string; message?: string; stack?: string; code?: unknown } | undefined;
  const isError = cause instanceof Error;
  return {
    actorId: f.actorId,
    operator: f.operator,
    window: f.window,
    phase: f.phase,
    restartable: f.restartable,
    cause: {
      name: isError ? cause.name : 'Error',
      message: isError ? cause.message : String(cause),
      stack: isError ? cause.stack : undefined,
      code:
        cause instanceof SluiceError ? cause.code : typeof cause?.code === 'string' ? cause.code : undefined,
    },
  };
}
