/**
 * Decides when the live streaming window closes. Real time: `streamingWindowMs` after it opened.
 * Virtual time (the test kit): when every live input operator went idle, or after a number of
 * emitTuples() rounds, so windows advance without sleeping and hundreds of runs take seconds.
 */
export interface WindowGenerator {
  readonly virtual: boolean;
  opened(now: number): void;
  /** After one round of emitTuples() calls: should the live window close now? */
  due(now: number, allIdle: boolean): boolean;
  /** How long the scheduler may sleep when nothing else can progress. */
  msUntilDue(now: number): number;
}

export class RealTimeWindows implements WindowGenerator {
  readonly virtual = false;
  private openedAt = 0;
  constructor(private readonly windowMs: number) {}
  opened(now: number): void {
    this.openedAt = now;
  }
  due(now: number): boolean {
    return now - this.openedAt >= this.windowMs;
  }
  msUntilDue(now: number): number {
    return this.openedAt + this.windowMs - now;
  }
}

export class VirtualTimeWindows implements WindowGenerator {
  readonly virtual = true;
  private rounds = 0;
  constructor(private readonly maxRounds = 64) {}
  opened(): void {
    this.rounds = 0;
  }
  due(_now: number, allIdle: boolean): boolean {
    return allIdle || ++this.rounds >= this.maxRounds;
  }
  msUntilDue(): number {
    return 0;
  }
}
