/** One timed run: wall time from start to finish, and what the run says it processed. */
export interface Timing<R> {
  readonly ms: number;
  readonly result: R;
}

/** Statistics of a variant measured several times (the first, warm-up run is not counted). */
export interface Measured<R> {
  readonly bestMs: number;
  readonly medianMs: number;
  /** Per measured run, in order. */
  readonly ms: readonly number[];
  /** The result of the last measured run. */
  readonly result: R;
}

export async function timeOnce<R>(fn: () => R | Promise<R>): Promise<Timing<R>> {
  collectGarbage();
  const start = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, result };
}

/** Runs `warmUp` once (untimed), then `run` `runs` times; every run's result goes through `check`. */
export async function measure<R>(
  run: () => R | Promise<R>,
  options: { runs: number; warmUp: () => unknown; check: (result: R) => void },
): Promise<Measured<R>> {
  await options.warmUp();
  const ms: number[] = [];
  let result: R | undefined;
  for (let i = 0; i < options.runs; i++) {
    const t = await timeOnce(run);
    options.check(t.result);
    ms.push(t.ms);
    result = t.result;
  }
  const sorted = [...ms].sort((a, b) => a - b);
  return { bestMs: sorted[0]!, medianMs: sorted[Math.floor(sorted.length / 2)]!, ms, result: result as R };
}

/** Best (smallest), median and largest of some milliseconds. */
export function spread(ms: readonly number[]): { min: number; median: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
}

/** Items per second given a count and milliseconds. */
export function perSecond(count: number, ms: number): number {
  return (count * 1000) / ms;
}

/** 12.3 M/s, 456 k/s. */
export function formatRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(0)} /s`;
}

/** Between runs, when node runs with --expose-gc, so a run does not pay for its predecessor's garbage. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}
