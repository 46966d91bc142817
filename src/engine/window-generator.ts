/**
 * Decides when the live streaming window closes. Real time: `streamingWindowMs` after it opened.
 * Virtual time (the test kit): when every live input operator went idle, or after a number of
 * emitTuples() rounds, so windows advance without sleeping and hundreds of runs take seconds.
 */
export interface WindowGenerator {
  readonly virtual: boolean;
  opened(now: number): void;
  /**
   * Should the live window close now? `inputsDone`: every live input operator is done with it (virtual
   * time: it emitted nothing in a call, or made `maxCalls` calls — a per-operator rule, so a window holds
   * the same tuples however the scheduler interleaves the operators; real time: its last call emitted
   * nothing).
   */
  due(now: number, inputsDone: boolean): boolean;
  /** Virtual time: the most emitTuples() calls per input operator and window. */
  readonly maxCalls: number;
  /** How long the scheduler may sleep when nothing else can progress. */
  msUntilDue(now: number): number;
}

/**
 * Real time: a window closes `windowMs` after it opened, once every input operator finished its burst
 * (its last emitTuples() call emitted nothing), so a source that emits a fixed amount per window in
 * several calls is not cut short by a late scheduler; a source that never pauses is cut at one and a
 * half window lengths.
 */
export class RealTimeWindows implements WindowGenerator {
  readonly virtual = false;
  readonly maxCalls = Number.POSITIVE_INFINITY;
  private openedAt = 0;
  constructor(private readonly windowMs: number) {}
  opened(now: number): void {
    this.openedAt = now;
  }
  due(now: number, inputsQuiet: boolean): boolean {
    const age = now - this.openedAt;
    return age >= this.windowMs && (inputsQuiet || age >= 1.5 * this.windowMs);
  }
  msUntilDue(now: number): number {
    return this.openedAt + this.windowMs - now;
  }
}

export class VirtualTimeWindows implements WindowGenerator {
  readonly virtual = true;
  constructor(readonly maxCalls = 64) {}
  opened(): void {}
  due(_now: number, inputsDone: boolean): boolean {
    return inputsDone;
  }
  msUntilDue(): number {
    return 0;
  }
}
