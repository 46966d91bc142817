/**
 * Window latency of one actor: from the moment the input operators opened a window to the moment this
 * actor finished it (its end marker left). Recorded once per actor and window, in microseconds, into an
 * HDR histogram (2 significant digits: exact enough for a p99, a few KB per actor).
 *
 * Two histograms: `total` since the run started, `recent` since the last tick of the history (the
 * console's per-second chart), which the collector resets.
 */
import hdr from 'hdr-histogram-js';

export type Histogram = ReturnType<typeof hdr.build>;

export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 2,
  });
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

  record(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.total.recordValue(us);
    this.recent.recordValue(us);
  }
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  return {
    count: h.totalCount,
    p50Ms: h.getValueAtPercentile(50) / 1000,
    p99Ms: h.getValueAtPercentile(99) / 1000,
    maxMs: h.maxValue / 1000,
  };
}

/** The union of several actors' histograms (an operator's partitions). */
export function merged(histograms: readonly Histogram[]): Histogram {
  const h = newHistogram();
  for (const x of histograms) if (x.totalCount > 0) h.add(x);
  return h;
}

/** Plain data (a string) for a histogram that must cross a thread or a socket, and back. */
export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s);
}
