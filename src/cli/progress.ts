/**
 * The progress line, once a second: the last finished window, tuples per second over the last
 * interval, the last committed window and the restarts so far. The rate is a pure function of two
 * samples; the clock and the timer are injected so tests can drive them.
 */
import type { RunStats } from '../engine/status.ts';
import type { Logger } from './logger.ts';

export interface ProgressSample {
  atMs: number;
  tuples: number;
}

export interface Progress {
  window: number;
  tuplesPerSecond: number;
  committed: number;
  restarts: number;
  /** Input operators holding their open window (count windows), as `window 7 of readings`. */
  holding: string[];
}

export function progressOf(stats: RunStats, previous: ProgressSample, now: ProgressSample): Progress {
  const seconds = (now.atMs - previous.atMs) / 1000;
  const tuples = Math.max(0, now.tuples - previous.tuples);
  return {
    window: stats.window,
    tuplesPerSecond: seconds > 0 ? Math.round(tuples / seconds) : 0,
    committed: stats.committed,
    restarts: stats.restarts,
    holding: stats.operators
      .filter((o) => o.holding !== undefined)
      .map((o) => `window ${o.holding} of ${o.actorId}`),
  };
}

export function formatProgress(p: Progress): string {
  // Only when nothing moved: a count window is held most of the time while the data flows too.
  const held =
    p.tuplesPerSecond === 0 && p.holding.length > 0
      ? ` · ${p.holding.join(', ')} held open, waiting for its source (count window)`
      : '';
  return (
    `window ${p.window} · ${p.tuplesPerSecond.toLocaleString('en-US')} tuples/s · ` +
    `committed ${p.committed} · restarts ${p.restarts}${held}`
  );
}

export interface ProgressClock {
  now(): number;
  every(ms: number, tick: () => void): () => void;
}

const realClock: ProgressClock = {
  now: () => performance.now(),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** Logs a progress line every `intervalMs` until the returned function is called. */
export function startProgress(
  stats: () => RunStats,
  log: Logger,
  intervalMs = 1000,
  clock: ProgressClock = realClock,
): () => void {
  let previous: ProgressSample = { atMs: clock.now(), tuples: stats().tuples };
  return clock.every(intervalMs, () => {
    const s = stats();
    const now = { atMs: clock.now(), tuples: s.tuples };
    const p = progressOf(s, previous, now);
    previous = now;
    log.info({ event: 'progress', ...p }, formatProgress(p));
  });
}
