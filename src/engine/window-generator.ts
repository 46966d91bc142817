/** What a window generator sees of one input operator in the live window. */
export interface InputProgress {
  readonly id: string;
  /** emitTuples() calls in the window so far. */
  readonly callsInWindow: number;
  /** One of those calls emitted nothing. */
  readonly wentIdle: boolean;
  /** The latest call emitted nothing: no burst is in progress. */
  readonly lastCallEmpty: boolean;
  /** Calls it had made when the window's time was up (-1: not up yet). */
  readonly callsAtTimeUp: number;
}

/**
 * Decides when the live window closes, input operator by input operator: the window closes once every
 * input operator is `finished` with it, and a finished one is not called again in that window.
 *
 * Real time: an input operator is finished once the window is `windowMs` old and its burst is over (its
 * latest call emitted nothing) — or, for one that never pauses, once it made `maxCalls` calls after the
 * time was up. So a burst of up to `maxCalls` calls is never cut, however late the scheduler gets to it
 * (load, GC, a recovery replaying), and an operator blocked by backpressure (no call yet) holds the window
 * open instead of letting empty windows pile up. What an operator still owes past a cut must be in its
 * state (docs/guarantees.md, "Windows on the real clock").
 *
 * Virtual time (the test kit): finished once it went idle or made `maxCalls` calls, so windows advance
 * without sleeping and a window holds the same tuples however the scheduler interleaves the operators;
 * `cutAt` moves that cut (what load does on the real clock) to test that nothing depends on it.
 *
 * An input operator that holds the window (`holdsWindow()`, count windows) is never finished while it
 * holds, on either clock and whatever `cutAt` says: its windows' boundaries are its own. The InputDriver
 * applies that rule before asking the generator. After a graceful stop it honours a hold while the
 * operator still emits (a live source fills its window) but lifts it once the operator emitted nothing
 * for `holdOnStopIdleMs`, and in any case `holdOnStopMaxMs` after the stop.
 */
export interface WindowGenerator {
  readonly virtual: boolean;
  opened(now: number): void;
  /** The window's time is up (virtual time: always). */
  timeUp(now: number): boolean;
  finished(input: InputProgress, window: number, now: number): boolean;
  /** How long the scheduler may sleep before the time is up. */
  msUntilDue(now: number): number;
  /** After a graceful stop: a hold lapses once its operator emitted nothing for this long… */
  readonly holdOnStopIdleMs: number;
  /** …and this long after the stop whatever it emits. */
  readonly holdOnStopMaxMs: number;
}

/** Calls a never-pausing input operator gets once the window's time is up (and per window, virtual). */
export const DEFAULT_MAX_CALLS = 64;

export class RealTimeWindows implements WindowGenerator {
  readonly virtual = false;
  private openedAt = 0;
  /**
   * Two window lengths (at least 500 ms) without a tuple: a source that is still delivering fills the
   * window (its reads may come less often than the windows), a dry one never will.
   */
  readonly holdOnStopIdleMs: number;
  /** Thirty window lengths (at least 5 s): a trickle cannot keep the stop waiting for ever. */
  readonly holdOnStopMaxMs: number;
  constructor(
    private readonly windowMs: number,
    private readonly maxCalls = DEFAULT_MAX_CALLS,
  ) {
    this.holdOnStopIdleMs = Math.max(2 * windowMs, 500);
    this.holdOnStopMaxMs = Math.max(30 * windowMs, 5000);
  }
  opened(now: number): void {
    this.openedAt = now;
  }
  timeUp(now: number): boolean {
    return now - this.openedAt >= this.windowMs;
  }
  finished(a: InputProgress, _window: number, now: number): boolean {
    if (!this.timeUp(now) || a.callsAtTimeUp < 0) return false;
    return (a.callsInWindow > 0 && a.lastCallEmpty) || a.callsInWindow - a.callsAtTimeUp >= this.maxCalls;
  }
  msUntilDue(now: number): number {
    return this.openedAt + this.windowMs - now;
  }
}

/** Test kit: the number of emitTuples() calls after which an input operator's window is cut. */
export type WindowCuts = (actorId: string, window: number) => number | undefined;

export class VirtualTimeWindows implements WindowGenerator {
  readonly virtual = true;
  /** No clock to wait on: a stop cuts a held window at once. */
  readonly holdOnStopIdleMs = 0;
  readonly holdOnStopMaxMs = 0;
  constructor(
    private readonly maxCalls = DEFAULT_MAX_CALLS,
    private readonly cutAt?: WindowCuts,
  ) {}
  opened(): void {}
  timeUp(): boolean {
    return true;
  }
  finished(a: InputProgress, window: number): boolean {
    const cut = this.cutAt?.(a.id, window);
    if (cut !== undefined) return a.callsInWindow >= cut;
    return a.wentIdle || a.callsInWindow >= this.maxCalls;
  }
  msUntilDue(): number {
    return 0;
  }
}
