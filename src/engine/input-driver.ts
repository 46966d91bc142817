import type { InputActor } from './input-actor.ts';
import type { WindowGenerator } from './window-generator.ts';

/**
 * Most streaming windows open at once between the input operators and the last actor (docs/guarantees.md,
 * Windows, "Pacing"). A new live window opens only once every actor finished the window this
 * many before it, so a slow sink slows the sources down instead of letting windows (and their markers)
 * pile up in the mailboxes, and a graceful stop has at most this many windows left to finish.
 */
export const WINDOWS_IN_FLIGHT = 4;

/**
 * Most checkpoint intervals a live window may open past the committed window (where the runtime says
 * so): the store's pace bounds how far the stream runs ahead of what a relaunch restores, and what
 * replay buffers keep. On the real clock commits keep up anyway; on virtual time, with window log
 * entries written without waiting for the store, windows could otherwise outrun every commit.
 */
export const CHECKPOINTS_AHEAD = 3;

/**
 * The newest live window that may open: `ahead` checkpoint intervals past `base`, the committed window or
 * the newest window a restart restored at if later (actors restored there commit only past it).
 */
export function commitHorizon(
  base: number,
  checkpointWindowCount: number,
  ahead = CHECKPOINTS_AHEAD,
): number {
  return base + ahead * checkpointWindowCount;
}

/**
 * Drives the input operators through windows. The live window is opened for all of them together and
 * closed when the window generator says every one of them is finished with it; an input operator
 * restored from a checkpoint first replays the windows its log holds, each cut at the logged count, then
 * joins the live window.
 */
export class InputDriver {
  /** The newest window the generator opened (or, after a restore, the last one every input logged). */
  liveWindow = 0;
  liveOpen = false;
  /** When a graceful stop began (holds lapse after it: WindowGenerator.holdOnStopIdleMs, …MaxMs). */
  private stopAt: number | undefined;
  /**
   * The live window a graceful stop left unfinished: an input operator still held it when its hold
   * lapsed (its source dry). Closing it short would move that window's boundary, and every later one's
   * results with it; left open, nothing of it is applied and the relaunch reads it again from the last
   * checkpoint and the window log, as after a kill, so it holds what an uninterrupted run's does.
   */
  abandoned: number | undefined;

  constructor(
    private readonly generator: WindowGenerator,
    private readonly now: () => number,
    private readonly run: {
      finalWindow(): number;
      inputs(): readonly InputActor[];
      /** The newest window every actor finished. */
      doneWindow(): number;
      /** Windows a live window may open past this (committed window + limit); absent: no limit. */
      commitHorizon?(): number;
    },
  ) {}

  get virtual(): boolean {
    return this.generator.virtual;
  }

  /** After a restore: `window` counts as opened and closed, the next live window is window + 1. */
  startAfter(window: number): void {
    this.liveWindow = window;
    this.liveOpen = false;
  }

  /**
   * A graceful stop begins; returns its last window: the open one, or the next one. It closes as any
   * window does, so it holds what it would have held had the application gone on (a relaunch then
   * continues the same output). An input operator's hold on it (count windows) is honoured while the
   * operator still emits, within bounds (WindowGenerator), so a live source fills its window (two copies
   * on one stream stay equal across a stop) and a dry one cannot keep the stop waiting.
   */
  beginStop(): number {
    this.stopAt ??= this.now();
    return this.liveOpen ? this.liveWindow : this.liveWindow + 1;
  }

  /** The input operators whose hold the stop outlasted (named when the window is left unfinished). */
  holdingInputs(): string[] {
    return this.run
      .inputs()
      .filter((a) => a.holding)
      .map((a) => a.id);
  }

  /** The clock stood still for the application (a recovery): the open window gets its full length. */
  restartClock(): void {
    if (!this.liveOpen) return;
    this.generator.opened(this.now());
    for (const a of this.run.inputs()) a.callsAtTimeUp = -1;
  }

  /** How long the scheduler may sleep when nothing can progress. */
  idleWait(maxMs: number): number {
    if (!this.liveOpen || this.generator.virtual) return maxMs;
    const now = this.now();
    // Held open by an input waiting for its source: its ctx.wake() ends the sleep, not the clock.
    if (this.run.inputs().some((a) => a.inWindow && this.holds(a, now) && a.waiting)) {
      if (this.stopAt === undefined) return maxMs;
      let lapse = maxMs;
      for (const a of this.run.inputs()) if (a.holding) lapse = Math.min(lapse, this.holdLapsesIn(a, now));
      return Math.max(1, lapse);
    }
    return Math.max(1, Math.min(maxMs, this.generator.msUntilDue(now)));
  }

  /** An input holds the live window while it waits on I/O: the scheduler waits for its wake, not stalled. */
  waitingOnHold(): boolean {
    return this.liveOpen && this.run.inputs().some((a) => a.inWindow && a.holding && a.waiting);
  }

  /** Does this input operator's hold keep the live window open? */
  private holds(a: InputActor, now: number): boolean {
    return a.holding && (this.stopAt === undefined || this.holdLapsesIn(a, now) > 0);
  }

  /** After a stop: how long `a`'s hold still counts (it lapses when `a` stops emitting, or at the cap). */
  private holdLapsesIn(a: InputActor, now: number): number {
    if (this.stopAt === undefined) return Number.POSITIVE_INFINITY;
    const g = this.generator;
    const idleSince = Math.max(this.stopAt, a.emittedAt);
    return Math.min(this.stopAt + g.holdOnStopMaxMs, idleSince + g.holdOnStopIdleMs) - now;
  }

  /** One round over the input operators: open, emit, close. Returns whether anything happened. */
  drive(): boolean {
    let progressed = false;
    const now = this.now();
    for (const a of this.run.inputs()) {
      if (a.hasPendingHooks) a.runHooks();
      if (a.busy) continue;
      // Left unfinished: nothing more is emitted into it (earlier windows still replay and close).
      if (this.abandoned !== undefined && !a.replaying && a.window >= this.abandoned) continue;
      if (!a.inWindow) {
        if (!this.mayOpen(a, a.window + 1)) continue;
        a.open(a.window + 1);
        progressed = true;
      }
      if (!a.gateOpen()) continue;
      if (a.replaying) {
        // A replay waiting on I/O (emitTuples() returned false with nothing emitted) is no progress: the
        // scheduler sleeps until the operator's ctx.wake() instead of spinning. Virtual time has no timer
        // to come back on, so there it stays progress, as before.
        const waiting = !a.cutReached && a.emitOnce() === 0 && a.waiting && !this.generator.virtual;
        if (a.cutReached) a.close();
        if (!waiting) progressed = true;
      } else if (a.window < this.liveWindow) {
        // A window the generator already closed, with no log entry to replay: it can only be empty.
        a.close();
        progressed = true;
      } else if (!this.finished(a, now)) {
        // On virtual time an empty call is progress too: it counts towards the window's cut.
        if (a.emitOnce() > 0) {
          a.emittedAt = now;
          progressed = true;
        } else if (this.generator.virtual && !(a.holding && a.waiting)) progressed = true;
        // (A held input waiting on I/O is no progress on virtual time either: the scheduler sleeps until
        // its ctx.wake() instead of spinning on empty calls.)
      }
    }
    return this.advance() || progressed;
  }

  private mayOpen(a: InputActor, next: number): boolean {
    if (next > this.run.finalWindow()) return false;
    if (next < this.liveWindow) return true;
    return next === this.liveWindow && (this.liveOpen || a.replayLog.has(next));
  }

  /** May the live window close on this input operator (and must it not be called again in it)? */
  private finished(a: InputActor, now: number): boolean {
    if (a.callsAtTimeUp < 0 && this.generator.timeUp(now)) a.callsAtTimeUp = a.callsInWindow;
    if (this.holds(a, now)) return false;
    if (a.holding && this.stopAt !== undefined) {
      // The stop outlasted the hold: the window is left unfinished, never closed short.
      this.abandoned ??= this.liveWindow;
      return false;
    }
    // On the real clock a stop does not wait out a never-pausing operator's 64 calls past the time: under
    // backpressure each call waits for room, and a slow consumer made that minutes (probe AH). Virtual
    // time keeps its cut, so that a stopped run's windows are an undisturbed one's.
    if (this.stopAt !== undefined && !this.generator.virtual && this.generator.timeUp(now)) return true;
    return this.generator.finished(a, this.liveWindow, now);
  }

  /** Closes the live window once every input operator is finished; opens the next when pacing allows. */
  private advance(): boolean {
    const inputs = this.run.inputs();
    const now = this.now();
    if (this.liveOpen) {
      for (const a of inputs) {
        if (a.window < this.liveWindow) return false; // still replaying or recovering: not joined yet
        if (a.inWindow && !a.replaying && !this.finished(a, now)) return false;
      }
      for (const a of inputs) if (a.inWindow && a.window === this.liveWindow && !a.replaying) a.close();
      this.liveOpen = false;
      return true;
    }
    if (this.liveWindow >= this.run.finalWindow()) return false;
    if (this.run.doneWindow() < this.liveWindow + 1 - WINDOWS_IN_FLIGHT) return false;
    if (this.run.commitHorizon !== undefined && this.liveWindow + 1 > this.run.commitHorizon()) return false;
    if (!inputs.every((a) => a.window >= this.liveWindow && !a.inWindow && !a.busy)) return false;
    this.liveWindow++;
    this.liveOpen = true;
    this.generator.opened(now);
    return true;
  }
}
