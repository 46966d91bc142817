import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// The case study's workload, named as `cs.` here (sluice-pipeline.ts imports the same names).
import * as cs from './case-study-workload.ts';

/** Marks the end of a window in-band, as sluice's end(w) does. */
const WINDOW_END = Object.freeze({ windowEnd: true as const });
type WindowEnd = typeof WINDOW_END;

/**
 * The pipeline a Node user would write instead: the same stages as object-mode streams, one object per
 * chunk, joined by stream.pipeline (default highWaterMark, 16 objects); the sums in the given encoding.
 */
export async function runStreamPipeline(w: cs.Workload, keys: cs.KeyEncoding): Promise<cs.AverageChecksum> {
  const into = new cs.AverageChecksum();
  if (keys === 'typed') {
    await pipeline(readings(w), generateDimensions(), prereqAverageTyped(), averageTyped(into));
  } else {
    await pipeline(readings(w), generateDimensions(), prereqAverage(), average(into));
  }
  return into;
}

function readings(w: cs.Workload): Readable {
  let seq = 0;
  let inWindow = 0;
  let window = 0;
  return new Readable({
    objectMode: true,
    read() {
      for (;;) {
        if (window === w.windows) {
          this.push(null);
          return;
        }
        if (inWindow === w.readingsPerWindow) {
          inWindow = 0;
          window++;
          if (!this.push(WINDOW_END)) return;
          continue;
        }
        inWindow++;
        if (!this.push(cs.readingAt(seq++))) return;
      }
    },
  });
}

function generateDimensions(): Transform {
  return new Transform({
    objectMode: true,
    transform(r: cs.Reading | WindowEnd, _encoding, callback) {
      if (r === WINDOW_END) this.push(r);
      else {
        const reading = r as cs.Reading;
        for (let d = 0; d < cs.DIMENSIONS; d++) {
          const t: cs.Dimensioned = {
            key: cs.dimensionKey(reading, d),
            cpu: reading.cpu,
            ram: reading.ram,
            hdd: reading.hdd,
          };
          this.push(t);
        }
      }
      callback();
    },
  });
}

function prereqAverage(): Transform {
  const sums = new Map<number, cs.Sums>();
  return new Transform({
    objectMode: true,
    transform(t: cs.Dimensioned | WindowEnd, _encoding, callback) {
      if (t === WINDOW_END) {
        for (const [key, s] of sums) {
          const p: cs.PartialSum = { key, cpu: s.cpu, ram: s.ram, hdd: s.hdd, count: s.count };
          this.push(p);
        }
        sums.clear();
        this.push(t);
      } else {
        const d = t as cs.Dimensioned;
        cs.addTo(sums, d.key, d.cpu, d.ram, d.hdd, 1);
      }
      callback();
    },
  });
}

function average(into: cs.AverageChecksum): Writable {
  const totals = new Map<number, cs.Sums>();
  return new Writable({
    objectMode: true,
    write(p: cs.PartialSum | WindowEnd, _encoding, callback) {
      if (p === WINDOW_END) {
        into.addWindow(totals);
        into.lastWindow++;
      } else {
        const s = p as cs.PartialSum;
        cs.addTo(totals, s.key, s.cpu, s.ram, s.hdd, s.count);
      }
      callback();
    },
  });
}

function prereqAverageTyped(): Transform {
  const sums = cs.newTypedSums();
  return new Transform({
    objectMode: true,
    transform(t: cs.Dimensioned | WindowEnd, _encoding, callback) {
      if (t === WINDOW_END) {
        const { touched, cpu, ram, hdd, count } = sums;
        for (let i = 0; i < sums.touchedCount; i++) {
          const key = touched[i]!;
          const p: cs.PartialSum = {
            key,
            cpu: cpu[key]!,
            ram: ram[key]!,
            hdd: hdd[key]!,
            count: count[key]!,
          };
          this.push(p);
        }
        cs.resetTyped(sums);
        this.push(t);
      } else {
        const d = t as cs.Dimensioned;
        cs.addToTyped(sums, d.key, d.cpu, d.ram, d.hdd, 1);
      }
      callback();
    },
  });
}

function averageTyped(into: cs.AverageChecksum): Writable {
  const totals = cs.newTypedSums();
  return new Writable({
    objectMode: true,
    write(p: cs.PartialSum | WindowEnd, _encoding, callback) {
      if (p === WINDOW_END) {
        into.addWindowTyped(totals);
        into.lastWindow++;
      } else {
        const s = p as cs.PartialSum;
        cs.addToTyped(totals, s.key, s.cpu, s.ram, s.hdd, s.count);
      }
      callback();
    },
  });
}
