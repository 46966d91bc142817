import {
  DimensionSpace,
  dayOf,
  keyString,
  minuteOf,
  timeOf,
} from '../actors/machine-data/dimension-space.ts';
import { ReadingCheck } from '../actors/machine-data/reading-check.ts';
import { ReadingGenerator } from '../actors/machine-data/reading-generator.ts';
import type { Resource } from '../actors/machine-data/types.ts';
import { MD_DAY, MD_MINUTE, MD_SEED, type MdWorkload, RecordChecksum } from './machine-data-workload.ts';

const RESOURCES: readonly Resource[] = ['cpu', 'ram', 'hdd'];

/**
 * The case study written by hand, as fast as one would write it in one function: per reading, the same
 * generator, the same range check, the 64 keys by subset sums, values capped at 90, and the sums in one
 * dense typed array indexed by the key (cpu, ram, hdd, count interleaved, as PrereqAverage keeps them; one
 * minute, so the key alone indexes), with a list of the keys touched; per application window, the same AverageRecords and Alerts as the Average operator
 * (key strings built once per key), folded into the checksum. No framework, no checkpoints, no windows
 * other than a counter.
 */
export function runMachineDataHandLoop(
  w: MdWorkload,
  windowEnded: (window: number) => void = () => {},
): RecordChecksum {
  const into = new RecordChecksum();
  const g = new ReadingGenerator({ seed: MD_SEED });
  const check = new ReadingCheck(new DimensionSpace().ranges);
  const space = new DimensionSpace();
  const n = space.keyCount;
  const sums = new Float64Array(n * 4);
  const touched = new Int32Array(n);
  let touchedCount = 0;
  const r0 = space.ranges;
  const mins = [r0.customer[0], r0.product[0], r0.os[0], r0.device[0], r0.software1[0], r0.software2[0]];
  const st = space.strides;
  const keys = new Int32Array(64);
  const time = timeOf(MD_DAY, MD_MINUTE);
  let seq = 0;
  for (let window = 1; window <= w.windows; window++) {
    for (let i = 0; i < w.readingsPerWindow; i++) {
      const r = g.at(seq++, MD_MINUTE, MD_DAY);
      if (!check.ok(r)) continue;
      const c = Math.min(r.cpu, 90);
      const m = Math.min(r.ram, 90);
      const h = Math.min(r.hdd, 90);
      keys[0] = 0;
      keys[1] = (r.customer - mins[0]! + 1) * st[0]!;
      const c1 = (r.product - mins[1]! + 1) * st[1]!;
      const c2 = (r.os - mins[2]! + 1) * st[2]!;
      const c3 = (r.device - mins[3]! + 1) * st[3]!;
      const c4 = (r.software1 - mins[4]! + 1) * st[4]!;
      const c5 = (r.software2 - mins[5]! + 1) * st[5]!;
      for (let k = 2; k < 4; k++) keys[k] = keys[k - 2]! + c1;
      for (let k = 4; k < 8; k++) keys[k] = keys[k - 4]! + c2;
      for (let k = 8; k < 16; k++) keys[k] = keys[k - 8]! + c3;
      for (let k = 16; k < 32; k++) keys[k] = keys[k - 16]! + c4;
      for (let k = 32; k < 64; k++) keys[k] = keys[k - 32]! + c5;
      for (let d = 0; d < 64; d++) {
        const key = keys[d]!;
        const at = key * 4;
        const count = sums[at + 3]!;
        if (count === 0) touched[touchedCount++] = key;
        sums[at]! += c;
        sums[at + 1]! += m;
        sums[at + 2]! += h;
        sums[at + 3] = count + 1;
      }
    }
    if (window % w.applicationWindowCount === 0) {
      for (let t = 0; t < touchedCount; t++) {
        const key = touched[t]!;
        const at = key * 4;
        const n = sums[at + 3]!;
        const fields = space.decode(key);
        const [day, minute] = [dayOf(time), minuteOf(time)];
        const k = keyString(fields, day, minute);
        const usage = {
          cpu: round2(sums[at]! / n),
          ram: round2(sums[at + 1]! / n),
          hdd: round2(sums[at + 2]! / n),
        };
        into.addRecord({ key: k, fields, day, minute, window, ...usage, count: n });
        for (const resource of RESOURCES) {
          if (usage[resource] > 70) {
            into.addAlert({
              key: k,
              fields: { ...fields },
              day,
              minute,
              window,
              resource,
              usage: usage[resource],
              threshold: 70,
            });
          }
        }
        sums.fill(0, at, at + 4);
      }
      touchedCount = 0;
    }
    windowEnded(window);
  }
  return into;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
