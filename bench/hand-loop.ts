import {
  AverageChecksum,
  addTo,
  DIMENSIONS,
  dimensionKey,
  readingAt,
  type Sums,
  type Workload,
} from './case-study-workload.ts';

/**
 * The same work with no framework, as one would write it by hand: per window, generate the readings,
 * add every dimension combination to the partial sums, merge the partial sums into the totals and fold
 * the averages into the checksum. Same generator, same keys, same Maps as the operators.
 */
export function runHandLoop(w: Workload): AverageChecksum {
  const into = new AverageChecksum();
  const partial = new Map<number, Sums>();
  const totals = new Map<number, Sums>();
  let seq = 0;
  for (let window = 1; window <= w.windows; window++) {
    for (let i = 0; i < w.readingsPerWindow; i++) {
      const r = readingAt(seq++);
      for (let d = 0; d < DIMENSIONS; d++) addTo(partial, dimensionKey(r, d), r.cpu, r.ram, r.hdd, 1);
    }
    for (const [key, s] of partial) addTo(totals, key, s.cpu, s.ram, s.hdd, s.count);
    partial.clear();
    into.addWindow(totals);
    into.lastWindow = window;
  }
  return into;
}
