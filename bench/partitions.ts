import { DIMENSIONS, READINGS_PER_WINDOW, totalReadings, type Workload } from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { type Job, type JobResult, runIsolated, runJob } from './jobs.ts';
import { perSecond, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const COUNTS = [1, 2] as const;

/**
 * What partitioning a stage costs in one thread: the mailbox pipeline with its heavy stage
 * (GenerateDimensions) at 1 and at 2 partitions, the second merged by the default pass-through unifier.
 * One thread cannot run two partitions faster than one; what this shows is what the extra hop and the
 * merge cost, in time and in memory (a merge that held its later inputs for a whole window ran at ~0.3×
 * with 3–4× the memory). Rounds interleaved (1, 2, 1, 2, …), each run in a fresh process; medians with
 * [min–max]; the ratios are taken per round, so both sides of one ratio ran under the same load.
 */
export const partitionsSection: Section = {
  title: 'partitions: the heavy stage at 1 and 2 partitions, merged by a unifier (one thread)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: Workload = { windows: o.quick ? 4 : 128, readingsPerWindow: READINGS_PER_WINDOW };
    const readings = totalReadings(w);
    const reference = runHandLoop(w, 'typed').toString();
    const runs = new Map<number, JobResult[]>(COUNTS.map((n) => [n, []]));
    o.progress(`partitions: 1 and 2 partitions × ${o.runs} rounds`);
    for (let i = 0; i < o.runs; i++) {
      for (const n of COUNTS) {
        const job: Job = { kind: 'partitioned', partitions: n, workload: w };
        const r = await (o.isolate ? runIsolated(job) : runJob(job));
        if (r.checksum !== reference || r.tuples !== readings * DIMENSIONS) {
          throw new BenchError(`partitions, ${n}: checksum ${r.checksum} differs from ${reference}`);
        }
        runs.get(n)!.push(r);
      }
    }
    const rate = (r: JobResult) => perSecond(readings, r.ms);
    const rss = (r: JobResult) => r.peakRssMb ?? 0;
    const gcShare = (r: JobResult) => ((r.gcMs ?? 0) / r.ms) * 100;
    const of = (n: number, f: (r: JobResult) => number) => spread(runs.get(n)!.map(f));
    const perRound = (f: (r: JobResult) => number) =>
      spread(runs.get(2)!.map((r, i) => f(r) / f(runs.get(1)![i]!)));
    const lines = [
      `  ${w.windows} windows × ${w.readingsPerWindow} readings = ${readings.toLocaleString('en')} readings per run, keys typed, locality 'container', checkpoints off, virtual time`,
      '  InputReceiver →keyed→ GenerateDimensions ×n → (pass-through unifier when n = 2) → PrereqAverage → Average',
      `  medians of ${o.runs} interleaved rounds, each run in a fresh process; [min–max] across rounds`,
      `  ${'partitions'.padEnd(12)} ${'throughput'.padEnd(24)} ${'peak RSS'.padEnd(20)} GC share of main thread`,
    ];
    const figures: Record<string, number> = {};
    for (const n of COUNTS) {
      const t = of(n, rate);
      const m = of(n, rss);
      const g = of(n, gcShare);
      lines.push(
        `  ${String(n).padEnd(12)} ${`${mps(t.median)} M/s [${mps(t.min)}–${mps(t.max)}]`.padEnd(24)} ` +
          `${`${m.median.toFixed(0)} MB [${m.min.toFixed(0)}–${m.max.toFixed(0)}]`.padEnd(20)} ` +
          `${g.median.toFixed(1)} % [${g.min.toFixed(1)}–${g.max.toFixed(1)}]`,
      );
      figures[`partitions${n}MedianTuplesPerSec`] = Math.round(t.median);
      figures[`partitions${n}PeakRssMbMedian`] = Math.round(m.median);
    }
    const speed = perRound(rate);
    const cpuSpeed = perRound((r) => perSecond(readings, r.cpuMs ?? r.ms));
    const memory = perRound(rss);
    figures.partitionsThroughputRatio = round(speed.median);
    figures.partitionsCpuThroughputRatio = round(cpuSpeed.median);
    figures.partitionsPeakRssRatio = round(memory.median);
    lines.push(
      `  2 partitions / 1: throughput ${speed.median.toFixed(2)}× [${speed.min.toFixed(2)}–${speed.max.toFixed(2)}], ` +
        `per CPU second ${cpuSpeed.median.toFixed(2)}× [${cpuSpeed.min.toFixed(2)}–${cpuSpeed.max.toFixed(2)}], ` +
        `peak RSS ${memory.median.toFixed(2)}× [${memory.min.toFixed(2)}–${memory.max.toFixed(2)}]`,
    );
    return { lines, figures };
  },
};

function mps(perSec: number): string {
  return (perSec / 1e6).toFixed(2);
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
