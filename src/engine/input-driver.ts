import type { InputActor } from './input-actor.ts';
import type { WindowGenerator } from './window-generator.ts';

/**
 * Drives the input operators through windows. The live window is opened for all of them together and
 * closed when the window generator says so; an input operator restored from a checkpoint first replays
 * the windows its log holds, each cut at the logged count, then joins the live window.
 */
export class InputDriver {
  /** The newest window the generator opened (or, after a restore, the last one every input logged). */
  liveWindow = 0;
  liveOpen = false;

  constructor(
    private readonly generator: WindowGenerator,
    private readonly now: () => number,
    private readonly run: { finalWindow(): number; inputs(): readonly InputActor[] },
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
   * The last window of a graceful stop: the open one, or the next one. It closes as any window does,
   * so it holds what it would have held had the application gone on (a relaunch then continues the
   * same output).
   */
  stopWindow(): number {
    return this.liveOpen ? this.liveWindow : this.liveWindow + 1;
  }

  /** The clock stood still for the application (a recovery): the open window gets its full length. */
  restartClock(): void {
    if (this.liveOpen) this.generator.opened(this.now());
  }

  /** How long the scheduler may sleep when nothing can progress. */
  idleWait(maxMs: number): number {
    if (!this.liveOpen || this.generator.virtual) return maxMs;
    return Math.max(1, Math.min(maxMs, this.generator.msUntilDue(this.now())));
  }

  /** One round over the input operators: open, emit, close. Returns whether anything happened. */
  drive(): boolean {
    let progressed = false;
    for (const a of this.run.inputs()) {
      if (a.hasPendingHooks) a.runHooks();
      if (a.busy) continue;
      if (!a.inWindow) {
        if (!this.mayOpen(a, a.window + 1)) continue;
        a.open(a.window + 1);
        progressed = true;
      }
      if (!a.gateOpen()) continue;
      if (a.replaying) {
        if (!a.cutReached) a.emitOnce();
        if (a.cutReached) a.close();
        progressed = true;
      } else if (a.window < this.liveWindow) {
        // A window the generator already closed, with no log entry to replay: it can only be empty.
        a.close();
        progressed = true;
      } else if (!this.doneWithWindow(a) && a.emitOnce() > 0) {
        progressed = true;
      }
    }
    return this.advance() || progressed;
  }

  private mayOpen(a: InputActor, next: number): boolean {
    if (next > this.run.finalWindow()) return false;
    if (next < this.liveWindow) return true;
    return next === this.liveWindow && (this.liveOpen || a.replayLog.has(next));
  }

  /** Virtual time: the operator went idle or used its calls for this window. */
  private doneWithWindow(a: InputActor): boolean {
    return this.generator.virtual && (a.wentIdle || a.callsInWindow >= this.generator.maxCalls);
  }

  /** Has this live input operator finished its current burst (may the window close on it)? */
  private quiet(a: InputActor): boolean {
    return this.generator.virtual ? this.doneWithWindow(a) : a.lastCallEmpty;
  }

  /** Closes the live window when due; opens the next once every input operator closed it. */
  private advance(): boolean {
    const inputs = this.run.inputs();
    const now = this.now();
    if (this.liveOpen) {
      let joined = true;
      let quiet = true;
      for (const a of inputs) {
        if (a.window < this.liveWindow) joined = false;
        else if (a.inWindow && !a.replaying && !this.quiet(a)) quiet = false;
      }
      if (!joined || !this.generator.due(now, quiet)) return false;
      for (const a of inputs) if (a.inWindow && a.window === this.liveWindow && !a.replaying) a.close();
      this.liveOpen = false;
      return true;
    }
    if (this.liveWindow >= this.run.finalWindow()) return false;
    if (!inputs.every((a) => a.window >= this.liveWindow && !a.inWindow && !a.busy)) return false;
    this.liveWindow++;
    this.liveOpen = true;
    this.generator.opened(now);
    return true;
  }
}
