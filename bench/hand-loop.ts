import {
  AverageChecksum,
  addTo,
  addToTyped,
  DIMENSIONS,
  dimensionKey,
  type KeyEncoding,
  newTypedSums,
  readingAt,
  resetTyped,
  type Sums,
  type Workload,
} from './case-study-workload.ts';

/**
 * (c) The same work with no framework, as one would write it by hand: per window, generate the readings,
 * add every dimension combination to the partial sums, merge the partial sums into the totals and fold
 * the averages into the checksum. Same generator, same keys, same sums (Map or typed columns) as the
 * operators. It allocates the readings but no dimension tuples: with no stage to hand them to, a loop
 * written by hand passes the key and the values straight to the add (see bench/README.md).
 */
export function runHandLoop(w: Workload, keys: KeyEncoding): AverageChecksum {
  return keys === 'typed' ? handLoopTyped(w) : handLoopMap(w);
}

function handLoopMap(w: Workload): AverageChecksum {
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

function handLoopTyped(w: Workload): AverageChecksum {
  const into = new AverageChecksum();
  const partial = newTypedSums();
  const totals = newTypedSums();
  let seq = 0;
  for (let window = 1; window <= w.windows; window++) {
    for (let i = 0; i < w.readingsPerWindow; i++) {
      const r = readingAt(seq++);
      for (let d = 0; d < DIMENSIONS; d++) addToTyped(partial, dimensionKey(r, d), r.cpu, r.ram, r.hdd, 1);
    }
    const { touched, cpu, ram, hdd, count } = partial;
    for (let t = 0; t < partial.touchedCount; t++) {
      const k = touched[t]!;
      addToTyped(totals, k, cpu[k]!, ram[k]!, hdd[k]!, count[k]!);
    }
    resetTyped(partial);
    into.addWindowTyped(totals);
    into.lastWindow = window;
  }
  return into;
}
