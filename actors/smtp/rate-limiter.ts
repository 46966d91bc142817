/** Time for the alert outputs, injectable so tests count on a virtual clock instead of waiting. */
export interface AlertClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: AlertClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * At most `perSecond` acquisitions in any 1,000 ms: a sliding window over the times of the last
 * `perSecond` acquisitions. An acquisition over the limit waits until the oldest of them is a second old;
 * nothing is ever refused or dropped. One caller at a time (the output sends one message at a time).
 */
export class RateLimiter {
  private readonly times: number[] = [];

  constructor(
    private readonly perSecond: number,
    private readonly clock: AlertClock,
  ) {}

  async acquire(): Promise<void> {
    if (!(this.perSecond > 0) || this.perSecond === Number.POSITIVE_INFINITY) return;
    for (;;) {
      const now = this.clock.now();
      while (this.times.length > 0 && this.times[0]! <= now - 1000) this.times.shift();
      if (this.times.length < this.perSecond) {
        this.times.push(now);
        return;
      }
      await this.clock.sleep(this.times[0]! + 1000 - now);
    }
  }
}
