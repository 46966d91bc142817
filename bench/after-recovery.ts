import type { AfterRecoveryJob } from './after-recovery-run.ts';
import { READINGS_PER_WINDOW } from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { type Job, type JobResult, runIsolated, runJob } from './jobs.ts';
import { perSecond, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const TARGET_RATIO = 0.9;

/**
 * Does a rebuilt fused chain run as fast as the first one? The fused case study, one application per
 * fresh process: with GenerateDimensions throwing once (window 15: the chain is rebuilt from its
 * classes and restored at window 10), and without; the same windows timed in both, well after the
 * replay. Rounds interleaved (fault-free, one recovery, …); the ratio is taken per round.
 */
export const afterRecoverySection: Section = {
  title: 'after recovery: fused throughput after one recovery, relative to a run without',
  async run(o: BenchOptions): Promise<SectionReport> {
    const windows = o.quick ? 40 : 200;
    const base: AfterRecoveryJob = { windows, from: o.quick ? 25 : 40, failWindow: 0, checkpointEvery: 10 };
    const settings = [
      { key: 'FaultFree', label: 'no fault', job: base },
      { key: 'Recovered', label: 'one recovery (window 15)', job: { ...base, failWindow: 15 } },
    ] as const;
    const expected = runHandLoop({ windows, readingsPerWindow: READINGS_PER_WINDOW }, 'typed').toString();
    const readings = (windows - base.from + 1) * READINGS_PER_WINDOW;
    const runs = new Map<string, JobResult[]>(settings.map((s) => [s.key, []]));
    o.progress(`after recovery: ${settings.map((s) => s.label).join(', ')} × ${o.runs} rounds`);
    for (let i = 0; i < o.runs; i++) {
      for (const s of settings) {
        const job: Job = { kind: 'after-recovery', ...s.job };
        const r = await (o.isolate ? runIsolated(job) : runJob(job));
        if (r.checksum !== expected)
          throw new BenchError(`after recovery, ${s.label}: checksum ${r.checksum} differs from ${expected}`);
        if (r.tuples !== (s.job.failWindow > 0 ? 1 : 0))
          throw new BenchError(`after recovery, ${s.label}: ${r.tuples} recoveries`);
        runs.get(s.key)!.push(r);
      }
    }
    const rate = (r: JobResult) => perSecond(readings, r.ms);
    const cpuRate = (r: JobResult) => perSecond(readings, r.cpuMs ?? r.ms);
    const lines = [
      `  the fused case study (keys typed), ${windows} windows × ${READINGS_PER_WINDOW} readings, memory store, checkpoints every ${base.checkpointEvery},`,
      `  windows ${base.from}–${windows} timed (${readings.toLocaleString('en')} readings); medians of ${o.runs} interleaved rounds, fresh processes, [min–max]`,
      `  GCs: collections in the timed windows (~0 while the chain is inlined whole; load does not change it)`,
      `  ${''.padEnd(26)} ${'throughput (wall)'.padEnd(22)} ${'per CPU second'.padEnd(22)} GCs`,
    ];
    const figures: Record<string, number> = {};
    const range = (x: { median: number; min: number; max: number }, f: (v: number) => string) =>
      `${f(x.median)} [${f(x.min)}–${f(x.max)}]`;
    const m = (v: number) => `${(v / 1e6).toFixed(2)}`;
    for (const s of settings) {
      const all = runs.get(s.key)!;
      const t = spread(all.map(rate));
      const c = spread(all.map(cpuRate));
      const g = spread(all.map((r) => r.gcCount ?? 0));
      lines.push(
        `  ${s.label.padEnd(26)} ${`${range(t, m)} M/s`.padEnd(22)} ${`${range(c, m)} M/s`.padEnd(22)} ${range(g, (v) => v.toFixed(0))}`,
      );
      figures[`afterRecovery${s.key}MedianTuplesPerSec`] = Math.round(t.median);
      figures[`afterRecovery${s.key}GcsMedian`] = g.median;
    }
    const free = runs.get('FaultFree')!;
    const ratio = spread(runs.get('Recovered')!.map((r, i) => free[i]!.ms / r.ms));
    const cpuRatio = spread(runs.get('Recovered')!.map((r, i) => (free[i]!.cpuMs ?? 0) / (r.cpuMs ?? 1)));
    figures.afterRecoveryRatio = Math.round(ratio.median * 100) / 100;
    figures.afterRecoveryCpuRatio = Math.round(cpuRatio.median * 100) / 100;
    const f2 = (v: number) => v.toFixed(2);
    lines.push(
      `  after one recovery / without: ${range(ratio, f2)}× (wall), ${range(cpuRatio, f2)}× (CPU)   target ≥ ${TARGET_RATIO}: ${ratio.median >= TARGET_RATIO ? 'met' : 'MISSED'}`,
    );
    return { lines, figures };
  },
};
