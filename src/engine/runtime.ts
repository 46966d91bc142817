import { EventEmitter } from 'node:events';
import { SluiceError } from '../core/errors.ts';
import { RunMetrics } from '../metrics/run-metrics.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { SnapshotCorruptError } from '../storage/errors.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { Actor, ActorSnapshot } from './actor.ts';
import { ActorGraph } from './actor-graph.ts';
import type { ActorHost } from './actor-host.ts';
import { Checkpoints } from './checkpoints.ts';
import {
  describe,
  isStopAbort,
  markNotRestarted,
  OperatorFailure,
  STOPPING_REASON,
  setupEndedByStop,
} from './failure.ts';
import { InputActor } from './input-actor.ts';
import { commitHorizon, InputDriver } from './input-driver.ts';
import { isPromise } from './maybe-async.ts';
import { metricsSource } from './metrics-source.ts';
import { operatorStats } from './operator-stats.ts';
import { Recovery } from './recovery.ts';
import { findRestoreWindow, NoValidCheckpointError, newestValidCheckpoint } from './restore.ts';
import type { RuntimeOptions } from './runtime-options.ts';
import type { RunStats, StatusEvent } from './status.ts';
import type { Supervision } from './supervision.ts';
import { hooksInFlight, leftUnfinished } from './unfinished-window.ts';
import { Waker, yieldToEventLoop } from './waker.ts';
import { RealTimeWindows, VirtualTimeWindows } from './window-generator.ts';

const SLICE_MS = 10;
const STEP_BUDGET = 32;
const IDLE_WAIT_MS = 50;

/**
 * Runs a physical plan in this thread: the scheduler loop (drain actors sinks-first, then let input
 * operators emit while there is room), the live window, checkpoints and commits, failures and recovery.
 */
export class Runtime implements ActorHost {
  readonly events = new EventEmitter<{ status: [StatusEvent] }>();
  readonly applicationName: string;
  readonly streamingWindowMs: number;
  readonly checkpointWindowCount: number;
  readonly lifecycleTimeoutMs: number;
  finalWindow = Number.POSITIVE_INFINITY;

  private readonly graph: ActorGraph;
  /** Per-actor and per-window metrics (src/metrics/); null with `metrics: false`. */
  readonly metrics: RunMetrics | null;
  /** stop() came before the runtime restored its position: stop right after restoring. */
  private stopBeforeStart = false;
  /** Aborted at stop() and kill() (ActorHost.stopSignal). */
  private readonly stopping = new AbortController();
  readonly stopSignal: AbortSignal = this.stopping.signal;
  private restored = false;
  private readonly plan: PhysicalPlan;
  private readonly store: SnapshotStore;
  private readonly supervision: Supervision;
  private readonly inputs: InputDriver;
  private readonly recovery: Recovery;
  private readonly checkpoints: Checkpoints;
  private readonly waker = new Waker();
  private readonly now: () => number;
  private epochMs = 0;
  /**
   * Fencing epoch (docs/guarantees.md, Exactly-once outputs): raised and persisted by every launch and
   * recovery before it builds actors.
   */
  epoch = 0;
  private doneWindow = 0;
  /** The newest window a recovery restored at (see commitHorizon). */
  private restoredAt = 0;
  private restarts = 0;
  private tuples = 0;
  /** Failures waiting to be handled, one recovery at a time (a recovery makes those of its set moot). */
  private failures: OperatorFailure[] = [];
  /** The set of a recovery that an operator's constructor cut short: the next one rebuilds it too. */
  private unfinished: string[] = [];
  private stopReason: 'windows' | 'stop' = 'windows';
  private killed = false;

  constructor(private readonly options: RuntimeOptions) {
    this.plan = options.plan;
    this.store = options.store;
    this.supervision = options.supervision;
    this.applicationName = options.plan.applicationName;
    this.streamingWindowMs = options.streamingWindowMs;
    this.checkpointWindowCount = options.checkpointWindowCount;
    this.lifecycleTimeoutMs = options.lifecycleTimeoutMs ?? 60_000;
    if (options.windows !== undefined) this.finalWindow = options.windows;
    const virtual = options.virtualTime;
    const generator = virtual
      ? new VirtualTimeWindows(
          typeof virtual === 'object' ? virtual.callsPerWindow : undefined,
          typeof virtual === 'object' ? virtual.cutAt : undefined,
        )
      : new RealTimeWindows(options.streamingWindowMs);
    this.now = options.now ?? (() => performance.now());
    this.graph = new ActorGraph(this.plan, this, this.options);
    this.metrics =
      options.metrics === false
        ? null
        : new RunMetrics(
            metricsSource(this.plan, this.graph, {
              liveWindow: () => this.inputs.liveWindow,
              doneWindow: () => this.doneWindow,
              committed: () => this.supervision.committedWindow,
            }),
            this.now,
          );
    if (this.metrics) this.events.on('status', (e) => this.metrics!.onStatus(e));
    this.recovery = new Recovery(this.graph, this.store, options.debug);
    this.checkpoints = new Checkpoints(this.plan, this.graph, this.store, this.supervision, {
      emit: (event) => this.emit(event),
      fail: (actor, e) => this.fail(actor.tag('checkpoint', e)),
      landed: () => this.waker.wake(),
      killed: () => this.killed,
    });
    this.inputs = new InputDriver(generator, this.now, {
      finalWindow: () => this.finalWindow,
      inputs: () => this.graph.inputActors,
      doneWindow: () => this.doneWindow,
      // From the newest recovery window too: actors restored there (perhaps from an earlier life's
      // snapshot, past this life's progress) checkpoint, and so commit, only at a later window.
      commitHorizon: () =>
        this.checkpointWindowCount > 0
          ? commitHorizon(
              Math.max(this.supervision.committedWindow, this.restoredAt),
              this.checkpointWindowCount,
            )
          : Number.POSITIVE_INFINITY,
    });
  }

  /** Restores from the store (a relaunch continues where the last checkpoint left off) and runs. */
  async run(): Promise<void> {
    const restored = await this.restore();
    this.supervision.start(this.plan, restored);
    this.emit({
      type: 'started',
      application: this.applicationName,
      actors: this.plan.actors.length,
      firstWindow: this.inputs.liveWindow + 1,
      restoredWindow: restored,
    });
    let reason: 'windows' | 'stop' | 'failure' = this.stopReason;
    // A running application keeps the process up: a setup() awaiting nothing of Node's own (only the stop
    // signal, an emitter nothing drives yet) would otherwise let it exit mid-run with an unsettled await.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    try {
      await this.setupAll(this.graph.actors, { stopEndsSetup: true });
      this.metrics?.start();
      await this.loop();
      reason = this.stopReason;
    } catch (e) {
      reason = 'failure';
      throw e;
    } finally {
      clearInterval(keepAlive);
      this.metrics?.stop();
      this.checkpoints.closeWindowLog();
      if (!this.killed) await this.teardownAll();
      const left = this.inputs.abandoned;
      if (left !== undefined && reason === 'stop') {
        this.emit({ type: 'warning', message: leftUnfinished(left, this.inputs.holdingInputs()) });
      }
      this.emit({
        type: 'stopped',
        window: this.doneWindow,
        committed: this.supervision.committedWindow,
        reason,
        ...(left !== undefined && reason === 'stop' ? { unfinished: left } : {}),
      });
    }
  }

  /** Graceful stop: the open window closes, a final checkpoint is taken and committed. */
  stop(): void {
    this.stopping.abort();
    if (!this.restored) {
      this.stopBeforeStart = true;
      return;
    }
    if (this.finalWindow <= this.inputs.liveWindow) return;
    this.stopReason = 'stop';
    this.finalWindow = this.inputs.beginStop();
    this.waker.wake();
  }

  /** Abrupt stop, as a process kill would be: no final checkpoint, no teardown (test kit). */
  kill(): void {
    this.killed = true;
    this.stopping.abort();
    // As with kill -9, no operator code runs after this: a continuation of an awaited endWindow or
    // window-log write would otherwise end windows, run consumers inline and apply outputs.
    for (const a of this.graph.actors) a.dispose();
    this.waker.wake();
  }

  /**
   * A failure drill from outside the operator (the web console): the actor fails now as if its operator
   * had thrown, and is recovered like any failure. False if there is no such actor.
   */
  failActor(actorId: string, reason: string): boolean {
    const a = this.graph.byId.get(actorId);
    if (a === undefined || this.killed) return false;
    this.fail(a.tag('tuple', new SluiceError('SLUICE_DRILL', reason)));
    return true;
  }

  stats(): RunStats {
    return {
      window: this.doneWindow,
      committed: this.supervision.committedWindow,
      restarts: this.restarts,
      tuples: this.tuples,
      operators: operatorStats(this.graph.actors),
    };
  }

  // ---- ActorHost -------------------------------------------------------------------------------

  /** Until restore() read the store; a recovery within the run finds windows logged (false from then on). */
  storeUntouched = false;

  warn(message: string): void {
    this.emit({ type: 'warning', message });
  }

  windowStartMs(window: number): number {
    return this.epochMs + (window - 1) * this.streamingWindowMs;
  }

  fail(failure: OperatorFailure): void {
    if (!this.failures.some((f) => f.actorId === failure.actorId)) this.failures.push(failure);
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
    this.advanceDone(this.graph.ends.ended(actor, window));
  }

  /** The newest window every actor has ended is `min`: the windows up to it are done. */
  private advanceDone(min: number): void {
    while (this.doneWindow < min) {
      this.doneWindow++;
      this.emit({ type: 'window', window: this.doneWindow, tuples: this.tuples });
    }
  }

  saveCheckpoint(actor: Actor, window: number, snapshot: ActorSnapshot): void {
    this.checkpoints.save(actor, window, snapshot);
  }

  appendWindowLog(actor: Actor, window: number, counts: number[]): void | Promise<void> {
    return this.checkpoints.appendWindowLog(actor, window, counts);
  }

  // ---- the scheduler ----------------------------------------------------------------------------

  private async loop(): Promise<void> {
    for (;;) {
      if (this.killed) return;
      if (this.failures.length > 0) {
        await this.handleFailure();
        continue;
      }
      if (this.finished()) return;
      const sliceEnd = this.now() + SLICE_MS;
      let progressed = false;
      try {
        do {
          progressed = this.graph.drain(STEP_BUDGET);
          progressed = this.inputs.drive() || progressed;
        } while (progressed && this.failures.length === 0 && !this.killed && this.now() < sliceEnd);
      } catch (e) {
        this.fail(asFailure(e));
        continue;
      }
      if (progressed) await yieldToEventLoop();
      else if (this.stalled()) throw new SluiceError('SLUICE_STALLED', this.describeStall());
      else await this.waker.wait(this.inputs.idleWait(IDLE_WAIT_MS));
    }
  }

  /** Virtual time has no timer to wait for: with nothing in flight and no progress, nothing will change. */
  private stalled(): boolean {
    return (
      this.inputs.virtual &&
      !this.checkpoints.writing &&
      !this.inputs.waitingOnHold() &&
      !this.graph.actors.some((a) => a.busy || a.hasPendingHooks) &&
      !this.finished()
    );
  }

  private describeStall(): string {
    const behind = this.graph.actors.filter((a) => a.lastEnded === this.doneWindow).map((a) => a.id);
    return `no actor can make progress after window ${this.doneWindow} (waiting: ${behind.slice(0, 8).join(', ')}); a window's messages went missing`;
  }

  private finished(): boolean {
    const left = this.inputs.abandoned;
    if (left !== undefined) {
      // The windows before it are finished; no checkpoint at the stop (the actors hold part of `left`).
      if (this.doneWindow < left - 1 || this.checkpoints.writing) return false;
      return !this.graph.actors.some(hooksInFlight);
    }
    if (!Number.isFinite(this.finalWindow)) return false;
    if (this.doneWindow < this.finalWindow || this.checkpoints.writing) return false;
    if (this.graph.actors.some((a) => a.busy || a.hasPendingHooks)) return false;
    return this.checkpointWindowCount === 0 || this.supervision.committedWindow >= this.finalWindow;
  }

  // ---- commit, failure, recovery -----------------------------------------------------------------

  private async handleFailure(): Promise<void> {
    const failure = this.failures.shift()!;
    this.emit({
      type: 'failure',
      actorId: failure.actorId,
      operator: failure.operator,
      window: failure.window,
      phase: failure.phase,
      error: failure,
    });
    // Let checkpoint writes in flight land first: the recovery window is chosen on settled bookkeeping, so
    // no commit (and buffer purge) can overtake it.
    await this.checkpoints.settle();
    if (this.killed) return; // killed meanwhile (as with kill -9): no recovery, no operator code
    const decision =
      this.stopReason === 'stop'
        ? { action: 'escalate' as const, reason: STOPPING_REASON }
        : this.supervision.failed(failure, Date.now(), this.unfinished);
    if (decision.action === 'escalate') {
      markNotRestarted(failure, decision.reason);
      throw failure;
    }
    this.restarts++;
    this.emit({
      type: 'restart',
      actors: decision.actors,
      replaying: decision.replaying,
      window: decision.window,
      attempt: decision.attempt,
      restarts: this.restarts,
      delayMs: decision.delayMs,
    });
    const started = this.now();
    if (decision.delayMs > 0) await new Promise((r) => setTimeout(r, decision.delayMs));
    // Windows of this store were logged by now: what an output holds is (also) this run's.
    this.storeUntouched = false;
    let set = new Set([...decision.actors, ...decision.replaying]);
    let window = decision.window;
    let fresh: Actor[];
    if (this.killed) return;
    await this.raiseEpoch();
    try {
      fresh = await this.recovery.recover(set, window, this.checkpoints.committed);
    } catch (e) {
      if (isConstructFailure(e)) return this.recoveryCutShort(e, set);
      if (!(e instanceof SnapshotCorruptError)) throw e;
      // The buffers only reach back to the commit: an older checkpoint means restoring everything there,
      // the input operators replaying their logs (kept back to the previous commit).
      this.emit({ type: 'warning', message: `${e.message}; every actor falls back to an older checkpoint` });
      const all = this.plan.actors.map((a) => a.id);
      const fallback = await newestValidCheckpoint(this.store, all, window);
      for (const message of fallback.warnings) this.emit({ type: 'warning', message });
      if (fallback.window < this.checkpoints.replayableFrom) {
        throw new NoValidCheckpointError(this.store.location, this.checkpoints.committed);
      }
      set = new Set(all);
      window = fallback.window;
      try {
        fresh = await this.recovery.recover(set, window, this.checkpoints.committed);
      } catch (e2) {
        if (isConstructFailure(e2)) return this.recoveryCutShort(e2, set);
        throw e2;
      }
    }
    if (this.killed) {
      for (const a of fresh) a.dispose();
      return;
    }
    this.unfinished = [];
    // Whatever else failed inside the set failed in instances that no longer exist.
    this.failures = this.failures.filter((f) => !set.has(f.actorId));
    this.doneWindow = Math.min(this.doneWindow, window);
    this.restoredAt = Math.max(this.restoredAt, window);
    // A setup that failed again (its database still down) is the next restart's, not a recovery.
    if (!(await this.setupAll(fresh))) return;
    this.inputs.restartClock();
    const replaying = new Set(decision.replaying);
    this.emit({
      type: 'recovered',
      actors: [...set].filter((id) => !replaying.has(id)),
      replaying: [...set].filter((id) => replaying.has(id)),
      window,
      ms: this.now() - started,
    });
    // The set may have been restored at a window every other actor had ended already (a second failure
    // while the first recovery replayed its last window): nobody ends it again, so it is done now.
    this.advanceDone(this.graph.ends.min);
  }

  /** On launch: the newest checkpoint every actor has, and where each input operator's log ends. */
  private async restore(): Promise<number> {
    const storedEpoch = (await this.store.getMeta('epochMs')) as number | undefined;
    this.epochMs = storedEpoch ?? this.options.epochMs ?? Date.now();
    if (storedEpoch === undefined) await this.store.putMeta('epochMs', this.epochMs);
    await this.raiseEpoch();
    const { window: r, snapshots, warnings, untouched } = await findRestoreWindow(this.store, this.plan);
    this.storeUntouched = untouched;
    for (const message of warnings) this.emit({ type: 'warning', message });
    await this.recovery.restore(new Set(this.plan.actors.map((a) => a.id)), r, snapshots);
    let lastLogged = Number.POSITIVE_INFINITY;
    for (const a of this.graph.inputActors) lastLogged = Math.min(lastLogged, r + a.replayLog.size);
    this.checkpoints.committed = r;
    this.checkpoints.replayableFrom = Math.min(
      r,
      ((await this.store.getMeta('replayableFrom')) as number) ?? 0,
    );
    this.doneWindow = r;
    this.inputs.startAfter(Number.isFinite(lastLogged) ? lastLogged : r);
    this.restored = true;
    if (this.stopBeforeStart) {
      // Nothing new was asked for: end at the restored checkpoint (logged windows replay next launch).
      this.stopReason = 'stop';
      this.finalWindow = Math.min(this.finalWindow, r);
    }
    return r;
  }

  /** Durable before any instance of the new epoch exists, so no epoch is ever handed out twice. */
  private async raiseEpoch(): Promise<void> {
    const stored = (await this.store.getMeta('epoch')) as number | undefined;
    // Also at least the wall clock's milliseconds: a run on a fresh store (a deleted store, the test kit's
    // chaos runs) then still outranks the runs that claimed its output before, instead of starting at 1.
    this.epoch = Math.max(Math.max(this.epoch, stored ?? 0) + 1, Date.now());
    await this.store.putMeta('epoch', this.epoch);
  }

  /**
   * A constructor threw while a recovery rebuilt `set` (some of it is replaced, some not): that is a
   * failure like any other, handled next, and the recovery that answers it rebuilds `set` too.
   */
  private recoveryCutShort(failure: OperatorFailure, set: ReadonlySet<string>): void {
    this.unfinished = [...set];
    this.failures.unshift(failure);
  }

  /**
   * Sets up each actor; a setup() that throws or rejects is a failure like any other (restarted within the
   * intensity), recorded for the run loop. Returns whether all of them succeeded. With `stopEndsSetup`
   * (the launch's own setup) a setup ended by the stop (isStopAbort) is no failure: the run ends where it
   * was restored, running no window (the actor is not set up), as a stop asked before start-up does.
   */
  private async setupAll(actors: readonly Actor[], o: { stopEndsSetup?: boolean } = {}): Promise<boolean> {
    let ok = true;
    for (const a of actors) {
      try {
        const r = a.setup();
        if (isPromise(r)) await r;
      } catch (e) {
        if (o.stopEndsSetup && isStopAbort(e, this.stopSignal)) {
          this.emit({ type: 'warning', message: setupEndedByStop(a.id, e) });
          this.finalWindow = Math.min(this.finalWindow, this.doneWindow);
          continue;
        }
        this.fail(a.tag('setup', e));
        ok = false;
      }
    }
    return ok;
  }

  private async teardownAll(): Promise<void> {
    for (const a of this.graph.actors) {
      try {
        await a.teardown();
      } catch (e) {
        this.emit({ type: 'warning', message: `teardown of ${a.id}: ${describe(e)}` });
      }
    }
  }

  private emit(event: StatusEvent): void {
    this.events.emit('status', event);
  }
}

function isConstructFailure(e: unknown): e is OperatorFailure {
  return e instanceof OperatorFailure && e.phase === 'construct';
}

function asFailure(e: unknown): OperatorFailure {
  if (e instanceof OperatorFailure) return e;
  return new OperatorFailure('runtime', 'runtime', 0, 'tuple', e);
}
