import { AsyncEmitTuplesError, AsyncHoldsWindowError } from '../api/errors.ts';
import { InputOperator } from '../api/operator.ts';
import { Actor, type ActorSnapshot } from './actor.ts';
import { enterCall, leaveCall } from './call-scope.ts';
import { isPromise } from './maybe-async.ts';
import type { InputProgress } from './window-generator.ts';

/**
 * Drives an InputOperator: opens a window when the scheduler says, calls emitTuples() while the window
 * is open, counts what each output port emitted, and logs those counts before the end marker leaves.
 *
 * Replaying window w after a restore, the counts logged for w are the cut: tuples emitted past it are
 * carried into w+1, so every replayed window holds exactly what it held the first time.
 */
/**
 * One output port's count in the open window, its cut (a replayed window's logged count, else Infinity)
 * and what was emitted past the cut. An object per port, read by the emit wrapper on every tuple: two
 * field loads, where arrays indexed by port cost bounds checks and element loads.
 */
class PortGate {
  count = 0;
  limit = Number.POSITIVE_INFINITY;
  carry: unknown[] = [];
}

export class InputActor extends Actor implements InputProgress {
  private gates: PortGate[] = [];
  private portIndex = new Map<string, number>();
  /** Window log entries to replay, by window. */
  replayLog = new Map<number, number[]>();
  replaying = false;
  /** emitTuples() calls in the open window, and whether one of them emitted nothing. */
  callsInWindow = 0;
  wentIdle = false;
  /** Its latest emitTuples() call emitted nothing: it has no burst in progress. */
  lastCallEmpty = false;
  /** Its latest emitTuples() call returned false: waiting on I/O, it calls ctx.wake() when data lands. */
  waiting = false;
  callsAtTimeUp = -1;
  /** The operator holds the live window open (holdsWindow() after its latest call). */
  holding = false;
  /** When its latest live call emitted something (the InputDriver's clock): a stop's hold lapses on it. */
  emittedAt = Number.NEGATIVE_INFINITY;
  private idleReplayCalls = 0;
  /** Tuples emitted in all windows so far, and in the window that just closed. */
  emitted = 0;
  emittedInWindow = 0;

  protected override wrapEmit(port: string, emit: (t: unknown) => void): (t: unknown) => void {
    const p = this.outputPorts.indexOf(port);
    this.portIndex.set(port, p);
    const gate = this.gates[p]!;
    return (t) => {
      if (gate.count < gate.limit) {
        gate.count++;
        emit(t);
      } else gate.carry.push(t);
    };
  }

  override wireOutputs(outletOf: Parameters<Actor['wireOutputs']>[0]): void {
    for (let p = 0; p < this.outputPorts.length; p++) this.gates.push(new PortGate());
    super.wireOutputs(outletOf);
  }

  protected override snapshotExtra(snapshot: ActorSnapshot): void {
    if (this.gates.some((g) => g.carry.length > 0)) snapshot.carry = this.gates.map((g) => [...g.carry]);
  }

  protected override restoreExtra(snapshot: ActorSnapshot): void {
    if (!snapshot.carry) return;
    snapshot.carry.forEach((c, p) => {
      this.gates[p]?.carry.push(...c);
    });
  }

  /** Opens window w: live, or replayed up to its logged cut. */
  open(w: number): void {
    enterCall(this);
    try {
      this.openWindow(w);
    } finally {
      leaveCall();
    }
  }

  private openWindow(w: number): void {
    const cut = this.replayLog.get(w);
    this.replaying = cut !== undefined;
    this.gates.forEach((g, p) => {
      g.count = 0;
      g.limit = cut ? (cut[p] ?? 0) : Number.POSITIVE_INFINITY;
    });
    this.callsInWindow = 0;
    this.wentIdle = false;
    this.lastCallEmpty = false;
    this.callsAtTimeUp = -1;
    this.idleReplayCalls = 0;
    this.host.windowOpened?.(w);
    this.startWindow(w);
    this.drainCarry();
    this.holding = this.askHolds();
  }

  /** Asks the operator's holdsWindow(); a truthy answer holds (JavaScript users return counts too). */
  private askHolds(): boolean {
    const op = this.operator as InputOperator<any, any>;
    // Most inputs never hold: no call (and no call-site record in a container) after each emitTuples().
    if (op.holdsWindow === InputOperator.prototype.holdsWindow) return false;
    let r: unknown;
    enterCall(this);
    try {
      r = op.holdsWindow();
    } catch (e) {
      throw this.tag('holdsWindow', e);
    } finally {
      leaveCall();
    }
    if (isPromise(r)) {
      r.catch(() => {});
      throw this.tag('holdsWindow', new AsyncHoldsWindowError());
    }
    return Boolean(r);
  }

  /** Tuples carried over from the previous window go out first, in order. */
  private drainCarry(): void {
    for (let p = 0; p < this.gates.length; p++) {
      const pending = this.gates[p]!.carry;
      if (pending.length === 0) continue;
      this.gates[p]!.carry = [];
      const emit = (this.operator as any)[this.outputPorts[p]!].emit as (t: unknown) => void;
      for (const t of pending) emit(t);
    }
    this.flushOutlets();
  }

  /** One emitTuples() call; returns the number of tuples it emitted. Throws OperatorFailure. */
  emitOnce(): number {
    const before = this.emittedTotal();
    let r: unknown;
    enterCall(this);
    try {
      r = (this.operator as InputOperator<any, any>).emitTuples();
      this.flushOutlets();
    } catch (e) {
      throw this.tag('emitTuples', e);
    } finally {
      leaveCall();
    }
    if (isPromise(r)) {
      r.catch(() => {}); // reported below, once: not as an unhandled rejection as well
      throw this.tag('emitTuples', new AsyncEmitTuplesError());
    }
    this.holding = this.askHolds();
    this.waiting = r === false;
    const n = this.emittedTotal() - before;
    this.callsInWindow++;
    this.lastCallEmpty = n === 0;
    if (n === 0) this.wentIdle = true;
    if (this.replaying) {
      this.idleReplayCalls = n === 0 && this.carryTotal() === 0 ? this.idleReplayCalls + 1 : 0;
      if (this.idleReplayCalls > 100_000) {
        throw this.tag(
          'emitTuples',
          new Error(
            `replaying window ${this.window}, the source stopped short of the logged cut (${this.gates.map((g) => g.limit).join(',')} tuples): is it deterministic and replayable?`,
          ),
        );
      }
    }
    return n;
  }

  /** A replayed window is complete once every port reached its logged count. */
  get cutReached(): boolean {
    return this.gates.every((g) => g.count >= g.limit);
  }

  close(): void {
    enterCall(this);
    try {
      const r = this.finishWindow(this.window);
      if (isPromise(r)) this.await(r, 'endWindow');
    } finally {
      leaveCall();
    }
  }

  /** The window log entry goes to the store before the end marker leaves (docs/guarantees.md, Windows). */
  protected override beforeEndMarker(w: number): void | Promise<void> {
    this.emittedInWindow = this.emittedTotal();
    this.emitted += this.emittedInWindow;
    if (this.replaying) return;
    return this.host.appendWindowLog(
      this,
      w,
      this.gates.map((g) => g.count),
    );
  }

  private emittedTotal(): number {
    let s = 0;
    for (const g of this.gates) s += g.count;
    return s;
  }

  private carryTotal(): number {
    let s = 0;
    for (const g of this.gates) s += g.carry.length;
    return s;
  }
}
