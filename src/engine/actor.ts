import {
  AsyncBeginWindowError,
  EmittedBetweenWindowsError,
  EmittedOutsideCallsError,
} from '../api/errors.ts';
import type { Operator } from '../api/operator.ts';
import { discoverPorts } from '../dag/logical-dag.ts';
import type { ActorPlan } from '../plan/physical-plan.ts';
import { StateNotRestorableError } from '../storage/errors.ts';
import { findUnrestorable } from '../storage/round-trip-check.ts';
import type { ActorHost } from './actor-host.ts';
import { asCall, startAwaiting, stopAwaiting, windowOpened } from './call-scope.ts';
import type { Channel } from './channel.ts';
import { type FailurePhase, OperatorFailure } from './failure.ts';
import { andThen, isPromise } from './maybe-async.ts';
import { MutableOperatorContext } from './operator-context.ts';
import { buildEmit, type ChannelWriter, type Outlet, type WindowReset } from './outlets.ts';

/** After the first checkpoint, a state's top is sampled: at most this many values, 16 children each. */
const STATE_SAMPLE = { budget: 1000, width: 16 };

/** The durable part of an actor: the operator's state plus what the runtime keeps for it. */
export interface ActorSnapshot {
  state: unknown;
  /** Input operators only: tuples emitted past a replayed window's cut, owed to the next window. */
  carry?: unknown[][];
  /** Set by a restore of an incremental checkpoint (not stored): its window and the oldest window it read. */
  restoredFrom?: { window: number; chainFrom: number };
}

/**
 * One physical operator instance. It owns the operator object, the outlets its output ports write to,
 * and the window protocol: begin → tuples → end, checkpoint after end, hooks between windows.
 */
export abstract class Actor {
  readonly id: string;
  readonly operator: Operator<any, any>;
  readonly ctx: MutableOperatorContext;
  /** Own outlets: channel writers and fused links, one per outgoing channel. */
  readonly outlets: Outlet[] = [];
  readonly writers: ChannelWriter[] = [];
  /** Channels whose room decides whether this actor may run: its own and those of fused descendants. */
  gate: Channel[] = [];
  protected readonly resets: WindowReset[] = [];
  protected readonly outputPorts: string[];

  window = 0;
  inWindow = false;
  lastEnded = 0;
  private lastCheckpointed = -1;
  /** checkpointFinal's window, waiting for an asynchronous call to settle. */
  private finalPending: number | undefined;
  /** Waiting for an asynchronous lifecycle call (endWindow, a window log write, committed). */
  busy = false;
  /** Replaced by a fresh actor in a recovery: late callbacks of this one must do nothing. */
  disposed = false;
  tuplesIn = 0;
  private readonly pendingHooks: { hook: 'checkpointed' | 'committed'; window: number }[] = [];
  private isSetUp = false;
  /** The state was walked whole once (findUnrestorable): later checkpoints only sample its top. */
  private stateChecked = false;

  constructor(
    readonly plan: ActorPlan,
    protected readonly host: ActorHost,
  ) {
    this.id = plan.id;
    try {
      this.operator = new plan.cls(plan.props);
      this.operator.state = this.operator.initialState();
    } catch (e) {
      // The window is the one the instance is built for: Recovery.restore tags it (see there).
      throw new OperatorFailure(plan.id, plan.operator, 0, 'construct', e);
    }
    this.outputPorts = discoverPorts(this.operator).outputs;
    this.ctx = new MutableOperatorContext(plan, host);
  }

  /** Binds every output port's emit to its routes; `outletOf` gives the outlet of a channel id. */
  wireOutputs(outletOf: (channel: number) => Outlet): void {
    for (const port of this.outputPorts) {
      const emit = buildEmit(this.plan.outputs.get(port) ?? [], outletOf, this.resets);
      if (emit) (this.operator as any)[port].emit = this.wrapEmit(port, emit);
    }
  }

  /** Input actors count tuples per port; others emit straight through. */
  protected wrapEmit(_port: string, emit: (t: unknown) => void): (t: unknown) => void {
    return emit;
  }

  /** Where this instance's state came from, if an incremental checkpoint (commit cleanup keeps its base). */
  restoredFrom: ActorSnapshot['restoredFrom'];

  restore(snapshot: ActorSnapshot): void {
    this.operator.state = snapshot.state;
    this.restoredFrom = snapshot.restoredFrom;
    this.restoreExtra(snapshot);
  }

  protected restoreExtra(_snapshot: ActorSnapshot): void {}
  protected snapshotExtra(_snapshot: ActorSnapshot): void {}

  /** Called once before the first window (after restore). */
  setup(): void | Promise<void> {
    return andThen(
      // As a call of the runtime's: a setup stuck in a loop is reported with its actor.
      this.call('setup', () => asCall(this, () => this.operator.setup(this.ctx))),
      () => {
        this.isSetUp = true;
      },
    );
  }

  /** Only after a setup() that succeeded, and once: teardown may assume what setup opened. */
  teardown(): void | Promise<void> {
    if (!this.isSetUp) return;
    this.isSetUp = false;
    return this.call('teardown', () => this.operator.teardown());
  }

  protected startWindow(w: number): void {
    for (const writer of this.writers) {
      if (writer.strays > 0) {
        const error = new EmittedBetweenWindowsError(writer.strays, w);
        throw new OperatorFailure(this.id, this.plan.operator, w, 'beginWindow', error);
      }
    }
    this.window = w;
    this.inWindow = true;
    this.ctx.windowId = w;
    for (const r of this.resets) r.reset();
    // After the outlets: a fused downstream opens its window inside begin() and records itself.
    for (const o of this.outlets) o.begin(w);
    windowOpened(this);
    if ((w - 1) % this.plan.applicationWindowCount === 0) {
      const r: unknown = this.call('beginWindow', () => this.operator.beginWindow(w));
      if (isPromise(r)) {
        r.catch(() => {}); // reported below, once: not as an unhandled rejection as well
        throw new OperatorFailure(this.id, this.plan.operator, w, 'beginWindow', new AsyncBeginWindowError());
      }
    }
  }

  /** endWindow → end markers out → checkpoint. Returns a promise only if something was asynchronous. */
  protected finishWindow(w: number): void | Promise<void> {
    // In-process fence: a replaced instance never starts an output's apply (its late ones are refused by
    // the epoch the output hands to the external system).
    if (this.disposed) return;
    for (const writer of this.writers) {
      if (writer.emittedOutsideCalls > 0) {
        const error = new EmittedOutsideCallsError(w);
        throw new OperatorFailure(this.id, this.plan.operator, w, 'endWindow', error);
      }
    }
    this.inWindow = false;
    // Only whole application windows end: a run that stops mid-application-window (a graceful stop,
    // `windows: N`) checkpoints the partial one, and the relaunch finishes it as an uninterrupted run would.
    const ending =
      w % this.plan.applicationWindowCount === 0
        ? this.call('endWindow', () => this.operator.endWindow())
        : undefined;
    if (isPromise(ending)) {
      // Until it settles, what the operator emits (after its awaits) belongs to this window.
      startAwaiting();
      ending.then(stopAwaiting, stopAwaiting);
    }
    // A replaced actor whose endWindow finishes late must not write a marker, log or snapshot. The rest runs
    // as a call of the runtime's even when it resumes after an await: a fused downstream's endWindow emits.
    return andThen(ending, () =>
      this.disposed
        ? undefined
        : andThen(this.beforeEndMarker(w), () =>
            this.disposed ? undefined : asCall(this, () => this.afterEnd(w)),
          ),
    );
  }

  /** Input actors persist their window log here. */
  protected beforeEndMarker(_w: number): void | Promise<void> {}

  private afterEnd(w: number): void | Promise<void> {
    const fusedEnds: Promise<void>[] = [];
    for (const o of this.outlets) {
      const r = o.end(w);
      if (isPromise(r)) fusedEnds.push(r);
    }
    this.lastEnded = w;
    if (this.checkpointDue(w)) this.checkpoint(w);
    this.host.windowEnded(this, w);
    // Between windows now: an actor fed BEGIN right after END (a batch from another thread holds both)
    // never waited between windows where the scheduler runs hooks, so its committed() came only at the end.
    if (this.pendingHooks.length > 0) this.runHooks();
    if (fusedEnds.length > 0) return Promise.all(fusedEnds).then(() => undefined);
  }

  /**
   * A graceful stop's final window `w` learnt after this actor ended it (a container's stop notice can
   * come after the window's end markers from another thread or node): its state is still that of the
   * end of `w`, since no input opens a later window, so that checkpoint is taken now. Without it the
   * final window is never committed and the stop never completes.
   */
  checkpointFinal(w: number): void {
    if (this.disposed || this.inWindow || this.lastEnded !== w || this.lastCheckpointed === w) return;
    if (this.host.checkpointWindowCount === 0) return;
    // A hook still running (an output's `committed`) may be changing the state: once it settled.
    if (this.busy) this.finalPending = w;
    else this.checkpoint(w);
  }

  private checkpointDue(w: number): boolean {
    const every = this.host.checkpointWindowCount;
    return every > 0 && (w % every === 0 || w === this.host.finalWindow);
  }

  /** The store encodes the snapshot before saveCheckpoint returns (taken synchronously), then writes it. */
  private checkpoint(w: number): void {
    this.lastCheckpointed = w;
    const snapshot: ActorSnapshot = { state: this.operator.state };
    this.snapshotExtra(snapshot);
    const refused = this.unrestorable(snapshot.state, w);
    if (refused) this.host.fail(refused);
    else this.host.saveCheckpoint(this, w, snapshot);
  }

  /**
   * A state the codec would not restore as it is fails the run before anything is written (restarting
   * cannot fix it). Walked whole at this instance's first checkpoint; later ones sample its top.
   */
  private unrestorable(state: unknown, w: number): OperatorFailure | undefined {
    const found = findUnrestorable(state, this.stateChecked ? STATE_SAMPLE : {});
    this.stateChecked = true;
    if (!found) return undefined;
    const cause = new StateNotRestorableError(found.path, found.problem);
    return new OperatorFailure(this.id, this.plan.operator, w, 'checkpoint', cause, { restartable: false });
  }

  /** Runs after the snapshot of window w is durable (the hook waits until between windows). */
  noteCheckpointed(w: number): void {
    this.pendingHooks.push({ hook: 'checkpointed', window: w });
  }

  noteCommitted(w: number): void {
    this.pendingHooks.push({ hook: 'committed', window: w });
  }

  get hasPendingHooks(): boolean {
    return this.pendingHooks.length > 0;
  }

  /** Calls the queued checkpointed/committed hooks if the actor is between windows. */
  runHooks(): void {
    while (this.pendingHooks.length > 0 && !this.inWindow && !this.busy) {
      const { hook, window } = this.pendingHooks.shift()!;
      const r = this.call(hook, () => this.operator[hook](window));
      if (isPromise(r)) this.await(r, hook);
    }
  }

  /** Marks the actor busy until `p` settles; a rejection is a failure of this actor. */
  protected await(p: Promise<unknown>, phase: FailurePhase): void {
    this.busy = true;
    // A call that never settles would stall the whole application: past the timeout it is a failure.
    const ms = this.host.lifecycleTimeoutMs;
    const timer = setTimeout(() => {
      if (!this.disposed)
        this.host.fail(this.tag(phase, new Error(`${phase} did not finish within ${ms} ms`)));
    }, ms);
    p.then(
      () => {
        clearTimeout(timer);
        if (this.disposed) return;
        this.busy = false;
        const final = this.finalPending;
        this.finalPending = undefined;
        if (final !== undefined) this.checkpointFinal(final);
        this.host.wake();
      },
      (e) => {
        clearTimeout(timer);
        if (this.disposed) return;
        this.host.fail(this.tag(phase, e));
      },
    );
  }

  /** Calls operator code, attributing what it throws to this actor and window. */
  protected call<T>(phase: FailurePhase, fn: () => T): T {
    try {
      const r = fn();
      if (isPromise(r)) return r.catch((e: unknown) => Promise.reject(this.tag(phase, e))) as T;
      return r;
    } catch (e) {
      throw this.tag(phase, e);
    }
  }

  tag(phase: FailurePhase, error: unknown): OperatorFailure {
    if (error instanceof OperatorFailure) return error;
    return new OperatorFailure(this.id, this.plan.operator, this.window, phase, error);
  }

  gateOpen(): boolean {
    const g = this.gate;
    for (let i = 0; i < g.length; i++) if (!g[i]!.hasRoom) return false;
    return true;
  }

  flushOutlets(): void {
    for (const o of this.outlets) o.flush();
  }

  dispose(): void {
    this.disposed = true;
    for (const w of this.writers) w.discard();
    // Fused links outlive this instance (rebound to its replacement): what it still emits (a late async
    // endWindow) must not reach them.
    for (const port of this.outputPorts) (this.operator as any)[port].emit = dropLate;
  }
}

/** The emit of a replaced instance's ports. */
function dropLate(): void {}
