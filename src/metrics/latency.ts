/**
 * Window latency: from the moment the input operators opened a window to the moment an actor finished it
 * (its end marker left). Recorded once per actor and window, in microseconds, into HDR histograms (2
 * significant digits: exact enough for a p99, a few KB each): the actor's own, and its operator's.
 *
 * An operator keeps two: `total` since the run started, `recent` since the last tick of the history (the
 * console's per-second chart), which the collector resets.
 */
// The histogram class alone: the package's index also loads its WebAssembly and compressed-encoding
// modules (~200 ms at startup on a busy machine), which every process importing sluice would pay. Loaded
// with require: the file is CommonJS, and ESM loaders disagree on what its default import is.
import { createRequire } from 'node:module';
import type Int32HistogramClass from 'hdr-histogram-js/dist/Int32Histogram.js';

const Int32Histogram = (
  createRequire(import.meta.url)('hdr-histogram-js/dist/Int32Histogram.js') as {
    default: typeof Int32HistogramClass.default;
  }
).default;

export type Histogram = InstanceType<typeof Int32Histogram>;

/** Up to an hour, in microseconds. */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return new Int32Histogram(1, HIGHEST_US, 2);
}

/** Quantiles in milliseconds; zeros when nothing was recorded. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class LatencyRecorder {
  readonly total = newHistogram();
  readonly recent = newHistogram();

  /** Records `ms`; returns the value recorded, in microseconds. */
  record(ms: number): number {
    const us = Math.min(HIGHEST_US, Math.max(0, Math.round(ms * 1000)));
    this.total.recordValue(us);
    this.recent.recordValue(us);
    return us;
  }
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  // A percentile is the top of its bucket: never report more than the largest value recorded.
  const max = h.maxValue;
  return {
    count: h.totalCount,
    p50Ms: Math.min(max, h.getValueAtPercentile(50)) / 1000,
    p99Ms: Math.min(max, h.getValueAtPercentile(99)) / 1000,
    maxMs: max / 1000,
  };
}
