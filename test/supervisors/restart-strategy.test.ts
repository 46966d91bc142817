import { describe, expect, test } from 'vitest';
import { backoffDelay, RestartIntensity, RestartStrategy } from '../../supervisors/restart-strategy.ts';

describe('restart strategies are values', () => {
  test('withLimit and withBackoff return new strategies and leave the original alone', () => {
    const base = RestartStrategy.restart();
    const limited = base.withLimit(2, 1000).withBackoff(10, 80, 3);
    expect(base.maxRestarts).toBe(5);
    expect(limited.maxRestarts).toBe(2);
    expect(limited.withinMs).toBe(1000);
    expect(limited.backoff).toEqual({ minMs: 10, maxMs: 80, factor: 3 });
  });

  test('backoff grows by the factor per attempt and is capped', () => {
    const b = { minMs: 10, maxMs: 100, factor: 2 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(b, a))).toEqual([10, 20, 40, 80, 100]);
  });

  test('restart intensity admits N restarts within T, then escalates, and forgets old restarts', () => {
    const intensity = new RestartIntensity(RestartStrategy.restart().withLimit(2, 1000));
    expect(intensity.admit(0)).toBe(1);
    expect(intensity.admit(100)).toBe(2);
    expect(intensity.admit(200)).toBeUndefined();
    expect(intensity.admit(1050)).toBe(2); // the restart at 0 fell out of the period
  });

  test('restarts with no window committed in between escalate past N however far apart they come', () => {
    const intensity = new RestartIntensity(RestartStrategy.restart().withLimit(3, 60_000));
    // A hang found after a 10 s heartbeat timeout, at the same committed window each time: 15 s apart.
    expect([0, 15_000, 30_000].map((t) => intensity.admit(t, 4))).toEqual([1, 2, 3]);
    expect(intensity.admit(61_000, 4)).toBeUndefined();
    expect(intensity.refusal).toMatch(/^more than 3 restarts in a row with no window committed in between/);
    // Progress resets the run: a failure after a newer commit is a first one again (the period still counts).
    const flaky = new RestartIntensity(RestartStrategy.restart().withLimit(3, 60_000));
    expect([0, 31_000, 62_000, 93_000, 124_000].map((t, i) => flaky.admit(t, i * 10))).toEqual([
      1, 2, 2, 2, 2,
    ]);
  });

  test('stop() never restarts', () => {
    expect(new RestartIntensity(RestartStrategy.stop()).admit(0)).toBeUndefined();
  });
});
