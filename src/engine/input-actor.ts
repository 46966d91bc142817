import type { InputOperator } from '../api/operator.ts';
import { Actor, type ActorSnapshot } from './actor.ts';
import { isPromise } from './maybe-async.ts';
import type { InputProgress } from './window-generator.ts';

/**
 * Drives an InputOperator: opens a window when the scheduler says, calls emitTuples() while the window
 * is open, counts what each output port emitted, and logs those counts before the end marker leaves.
 *
 * Replaying window w after a restore, the counts logged for w are the cut: tuples emitted past it are
 * carried into w+1, so every replayed window holds exactly what it held the first time.
 */
export class InputActor extends Actor implements InputProgress {
  private counts: number[] = [];
  private limits: number[] = [];
  private carry: unknown[][] = [];
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
  private idleReplayCalls = 0;
  /** Tuples emitted in all windows so far, and in the window that just closed. */
  emitted = 0;
  emittedInWindow = 0;

  protected override wrapEmit(port: string, emit: (t: unknown) => void): (t: unknown) => void {
    const p = this.outputPorts.indexOf(port);
    this.portIndex.set(port, p);
    const counts = this.counts;
    const limits = this.limits;
    const carry = this.carry;
    return (t) => {
      if (counts[p]! < limits[p]!) {
        counts[p]!++;
        emit(t);
      } else carry[p]!.push(t);
    };
  }

  override wireOutputs(outletOf: Parameters<Actor['wireOutputs']>[0]): void {
    for (let p = 0; p < this.outputPorts.length; p++) {
      this.counts.push(0);
      this.limits.push(Number.POSITIVE_INFINITY);
      this.carry.push([]);
    }
    super.wireOutputs(outletOf);
  }

  protected override snapshotExtra(snapshot: ActorSnapshot): void {
    if (this.carry.some((c) => c.length > 0)) snapshot.carry = this.carry.map((c) => [...c]);
  }

  protected override restoreExtra(snapshot: ActorSnapshot): void {
    if (!snapshot.carry) return;
    snapshot.carry.forEach((c, p) => {
      if (this.carry[p]) this.carry[p]!.push(...c);
    });
  }

  /** Opens window w: live, or replayed up to its logged cut. */
  open(w: number): void {
    const cut = this.replayLog.get(w);
    this.replaying = cut !== undefined;
    this.counts.fill(0);
    for (let p = 0; p < this.limits.length; p++)
      this.limits[p] = cut ? (cut[p] ?? 0) : Number.POSITIVE_INFINITY;
    this.callsInWindow = 0;
    this.wentIdle = false;
    this.lastCallEmpty = false;
    this.callsAtTimeUp = -1;
    this.idleReplayCalls = 0;
    this.host.windowOpened?.(w);
    this.startWindow(w);
    this.drainCarry();
  }

  /** Tuples carried over from the previous window go out first, in order. */
  private drainCarry(): void {
    for (let p = 0; p < this.carry.length; p++) {
      const pending = this.carry[p]!;
      if (pending.length === 0) continue;
      this.carry[p] = [];
      const emit = (this.operator as any)[this.outputPorts[p]!].emit as (t: unknown) => void;
      for (const t of pending) emit(t);
    }
    this.flushOutlets();
  }

  /** One emitTuples() call; returns the number of tuples it emitted. Throws OperatorFailure. */
  emitOnce(): number {
    const before = this.emittedTotal();
    try {
      this.waiting = (this.operator as InputOperator<any, any>).emitTuples() === false;
    } catch (e) {
      throw this.tag('emitTuples', e);
    }
    this.flushOutlets();
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
            `replaying window ${this.window}, the source stopped short of the logged cut (${this.limits.join(',')} tuples): is it deterministic and replayable?`,
          ),
        );
      }
    }
    return n;
  }

  /** A replayed window is complete once every port reached its logged count. */
  get cutReached(): boolean {
    for (let p = 0; p < this.counts.length; p++) if (this.counts[p]! < this.limits[p]!) return false;
    return true;
  }

  close(): void {
    const r = this.finishWindow(this.window);
    if (isPromise(r)) this.await(r, 'endWindow');
  }

  /** The window log entry goes to the store before the end marker leaves (docs/guarantees.md, Windows). */
  protected override beforeEndMarker(w: number): void | Promise<void> {
    this.emittedInWindow = this.emittedTotal();
    this.emitted += this.emittedInWindow;
    if (this.replaying) return;
    return this.host.appendWindowLog(this, w, [...this.counts]);
  }

  private emittedTotal(): number {
    let s = 0;
    for (const c of this.counts) s += c;
    return s;
  }

  private carryTotal(): number {
    let s = 0;
    for (const c of this.carry) s += c.length;
    return s;
  }
}
