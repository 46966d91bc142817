/** A run that timed itself: wall time of the measured part, in milliseconds. */
export interface Timed {
  readonly ms: number;
}

/** One timed run: wall time from start to finish, and what the run says it processed. */
export interface Timing<R> extends Timed {
  readonly result: R;
}

/** Statistics of a variant measured several times (a warm-up run, if any, is not counted). */
export interface Measured<R extends Timed> {
  readonly bestMs: number;
  readonly medianMs: number;
  /** Per measured run, in order. */
  readonly ms: readonly number[];
  /** The last measured run. */
  readonly last: R;
}

/** Times `fn` in this process, after collecting garbage. */
export async function timeOnce<R>(fn: () => R | Promise<R>): Promise<Timing<R>> {
  collectGarbage();
  const start = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, result };
}

/** Runs `warmUp` once if given (untimed), then `run` `runs` times; every run goes through `check`. */
export async function measure<R extends Timed>(
  run: () => Promise<R>,
  options: { runs: number; warmUp?: () => Promise<unknown>; check: (result: R) => void },
): Promise<Measured<R>> {
  if (options.warmUp) await options.warmUp();
  const ms: number[] = [];
  let last: R | undefined;
  for (let i = 0; i < options.runs; i++) {
    const r = await run();
    options.check(r);
    ms.push(r.ms);
    last = r;
  }
  const s = spread(ms);
  return { bestMs: s.min, medianMs: s.median, ms, last: last! };
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

/** What a span of a run cost the process (every thread): wall time, CPU time, fresh pages touched. */
export interface Span {
  readonly ms: number;
  readonly cpuMs: number;
  readonly pageFaults: number;
}

/** Marks the start of a span; `end()` measures it. */
export function spanFrom(): { end(): Span } {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  return {
    end() {
      const cpu = process.cpuUsage(cpu0);
      return {
        ms: performance.now() - t0,
        cpuMs: (cpu.user + cpu.system) / 1000,
        pageFaults: process.resourceUsage().minorPageFault - faults0,
      };
    },
  };
}
