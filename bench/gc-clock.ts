import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Milliseconds the garbage collector held the main thread from now until `stop()`: the sum of the
 * durations of the `gc` performance entries (scavenges, mark-compacts, incremental marking steps that
 * V8 reports), as `--trace-gc` would add them up. Work of V8's helper threads is not in it.
 */
export function startGcClock(): { stop(): number } {
  let ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) ms += e.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      for (const e of observer.takeRecords()) ms += e.duration;
      observer.disconnect();
      return ms;
    },
  };
}
