/**
 * Restart strategies as immutable values (after Pekko's SupervisorStrategy): how many restarts within
 * how long before a failure escalates, and how long to wait before each restart.
 */
export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

export class RestartStrategy {
  private constructor(
    readonly maxRestarts: number,
    readonly withinMs: number,
    readonly backoff: Backoff,
  ) {}

  /** Restart every failure; by default at most 5 restarts within 60 s, backoff 50 ms doubling to 10 s. */
  static restart(): RestartStrategy {
    return new RestartStrategy(5, 60_000, { minMs: 50, maxMs: 10_000, factor: 2 });
  }

  /** Never restart: the first failure stops the application. */
  static stop(): RestartStrategy {
    return new RestartStrategy(0, 0, { minMs: 0, maxMs: 0, factor: 1 });
  }

  /** Past `maxRestarts` restarts within `withinMs`, the failure escalates. */
  withLimit(maxRestarts: number, withinMs: number): RestartStrategy {
    if (!(Number.isSafeInteger(maxRestarts) && maxRestarts >= 0))
      throw new RangeError(
        `RestartStrategy.withLimit: maxRestarts must be an integer ≥ 0 (got ${maxRestarts})`,
      );
    if (!(Number.isFinite(withinMs) && withinMs >= 0))
      throw new RangeError(
        `RestartStrategy.withLimit: withinMs must be a number of milliseconds ≥ 0 (got ${withinMs})`,
      );
    return new RestartStrategy(maxRestarts, withinMs, this.backoff);
  }

  withBackoff(minMs: number, maxMs: number, factor = 2): RestartStrategy {
    if (!(Number.isFinite(minMs) && minMs >= 0 && Number.isFinite(maxMs) && maxMs >= minMs))
      throw new RangeError(
        `RestartStrategy.withBackoff: expected 0 ≤ minMs ≤ maxMs (got ${minMs}, ${maxMs})`,
      );
    if (!(Number.isFinite(factor) && factor >= 1))
      throw new RangeError(`RestartStrategy.withBackoff: factor must be ≥ 1 (got ${factor})`);
    return new RestartStrategy(this.maxRestarts, this.withinMs, { minMs, maxMs, factor });
  }
}

/** Delay before restart number `attempt` (1 for the first restart in the current intensity period). */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  return Math.min(backoff.maxMs, backoff.minMs * backoff.factor ** Math.max(0, attempt - 1));
}

/**
 * Restart intensity: the restarts that happened within the last `withinMs`. A restart is allowed while
 * fewer than `maxRestarts` fall in that sliding period, and while fewer than `maxRestarts` came in a row
 * with no progress in between (no newer committed window). The second rule is for failures slower than
 * the period allows: a hang found after a 10 s heartbeat timeout, or a setup that waits 30 s for a
 * database that is not there, recurs every 10–30 s after each restart and would never fill the period.
 */
export class RestartIntensity {
  private readonly times: number[] = [];
  private lastProgress: number | undefined;
  /** Restarts since the progress mark last moved. */
  private inARow = 0;
  /** Why the last refused restart was refused. */
  refusal = '';

  constructor(private readonly strategy: RestartStrategy) {}

  /**
   * Records a restart at `now` if allowed; returns its attempt number (what the backoff grows with), or
   * undefined to escalate (`refusal` says why). `progress`: the committed window at the failure.
   */
  admit(now: number, progress?: number): number | undefined {
    const max = this.strategy.maxRestarts;
    if (progress !== undefined) {
      const moved = this.lastProgress === undefined || progress > this.lastProgress;
      this.inARow = moved ? 0 : this.inARow;
      this.lastProgress = progress;
    }
    while (this.times.length > 0 && now - this.times[0]! > this.strategy.withinMs) this.times.shift();
    if (max === 0) {
      this.refusal = 'the restart strategy restarts nothing (RestartStrategy.stop() or withLimit(0, …))';
      return undefined;
    }
    if (this.times.length >= max) {
      this.refusal = `more than ${max} restarts within ${this.strategy.withinMs} ms`;
      return undefined;
    }
    if (this.inARow >= max) {
      this.refusal = `more than ${max} restarts in a row with no window committed in between (the failure recurs)`;
      return undefined;
    }
    this.times.push(now);
    if (progress !== undefined) this.inARow++;
    return Math.max(this.times.length, this.inARow);
  }
}
