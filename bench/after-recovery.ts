import type { AfterRecoveryJob } from './after-recovery-run.ts';
import { READINGS_PER_WINDOW } from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { type Job, type JobResult, runIsolated, runJob } from './jobs.ts';
import { perSecond, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const TARGET_RATIO = 0.9;
const CONTAINERS = 2;

/**
 * Does a rebuilt fused chain run as fast as the first one? The fused case study, one application per
 * fresh process: with GenerateDimensions throwing once (window 15: the chain is rebuilt from its
 * classes and restored at window 10), and without; the same windows timed in both, well after the
 * replay. Rounds interleaved (fault-free, one recovery, …); the ratio is taken per round. In this thread
 * (the rebuilt chain runs the same functions as the first, with V8's feedback of both: see bench/README,
 * After recovery) and on 2 containers (the chain fills container 0, whose failure replaces it alone, on
 * a new worker).
 */
export const afterRecoverySection: Section = {
  title: 'after recovery: fused throughput after one recovery, relative to a run without',
  async run(o: BenchOptions): Promise<SectionReport> {
    const windows = o.quick ? 40 : 200;
    const base: AfterRecoveryJob = { windows, from: o.quick ? 25 : 40, failWindow: 0, checkpointEvery: 10 };
    // On containers the replacement worker is followed by a refill of the spare workers (a second or two of
    // module loading on the machine's cores): the timed windows come after it, in a longer run.
    const onContainers: AfterRecoveryJob = o.quick
      ? { ...base, containers: CONTAINERS }
      : { ...base, windows: 1000, from: 601, containers: CONTAINERS };
    const settings = [
      { key: 'FaultFree', label: 'no fault', job: base },
      { key: 'Recovered', label: 'one recovery (window 15)', job: { ...base, failWindow: 15 } },
      { key: 'ContainersFaultFree', label: `no fault, ${CONTAINERS} containers`, job: onContainers },
      {
        key: 'ContainersRecovered',
        label: `one recovery, ${CONTAINERS} containers`,
        job: { ...onContainers, failWindow: 15 },
      },
    ] as const;
    const expected = new Map(
      [base, onContainers].map((j) => [
        j.windows,
        runHandLoop({ windows: j.windows, readingsPerWindow: READINGS_PER_WINDOW }, 'typed').toString(),
      ]),
    );
    const readingsOf = (j: AfterRecoveryJob) => (j.windows - j.from + 1) * READINGS_PER_WINDOW;
    const runs = new Map<string, JobResult[]>(settings.map((s) => [s.key, []]));
    o.progress(`after recovery: ${settings.map((s) => s.label).join(', ')} × ${o.runs} rounds`);
    for (let i = 0; i < o.runs; i++) {
      for (const s of settings) {
        const job: Job = { kind: 'after-recovery', ...s.job };
        const r = await (o.isolate ? runIsolated(job) : runJob(job));
        const want = expected.get(s.job.windows);
        if (r.checksum !== want)
          throw new BenchError(`after recovery, ${s.label}: checksum ${r.checksum} differs from ${want}`);
        if (r.tuples !== (s.job.failWindow > 0 ? 1 : 0))
          throw new BenchError(`after recovery, ${s.label}: ${r.tuples} recoveries`);
        runs.get(s.key)!.push(r);
      }
    }
    const lines = [
      `  the fused case study (keys typed), ${READINGS_PER_WINDOW} readings a window, memory store, checkpoints every ${base.checkpointEvery}; medians of ${o.runs} interleaved rounds, fresh processes, [min–max]`,
      `  in one thread ${windows} windows, ${base.from}–${windows} timed; on containers ${onContainers.windows} windows, ${onContainers.from}–${onContainers.windows} timed`,
      `  GCs: collections in the timed windows, of the main thread (~0 while the chain is inlined whole; on containers the chain runs in a worker: not counted)`,
      `  ${''.padEnd(30)} ${'throughput (wall)'.padEnd(22)} ${'per CPU second'.padEnd(22)} GCs`,
    ];
    const figures: Record<string, number> = {};
    const range = (x: { median: number; min: number; max: number }, f: (v: number) => string) =>
      `${f(x.median)} [${f(x.min)}–${f(x.max)}]`;
    const m = (v: number) => `${(v / 1e6).toFixed(2)}`;
    for (const s of settings) {
      const all = runs.get(s.key)!;
      const t = spread(all.map((r) => perSecond(readingsOf(s.job), r.ms)));
      const c = spread(all.map((r) => perSecond(readingsOf(s.job), r.cpuMs ?? r.ms)));
      const g = spread(all.map((r) => r.gcCount ?? 0));
      lines.push(
        `  ${s.label.padEnd(30)} ${`${range(t, m)} M/s`.padEnd(22)} ${`${range(c, m)} M/s`.padEnd(22)} ${range(g, (v) => v.toFixed(0))}`,
      );
      figures[`afterRecovery${s.key}MedianTuplesPerSec`] = Math.round(t.median);
      figures[`afterRecovery${s.key}GcsMedian`] = g.median;
    }
    const f2 = (v: number) => v.toFixed(2);
    const ratios = (free: string, recovered: string, figure: string, where: string) => {
      const before = runs.get(free)!;
      const ratio = spread(runs.get(recovered)!.map((r, i) => before[i]!.ms / r.ms));
      const cpuRatio = spread(runs.get(recovered)!.map((r, i) => (before[i]!.cpuMs ?? 0) / (r.cpuMs ?? 1)));
      figures[figure] = Math.round(ratio.median * 100) / 100;
      figures[`${figure.replace(/Ratio$/, '')}CpuRatio`] = Math.round(cpuRatio.median * 100) / 100;
      lines.push(
        `  after one recovery / without, ${where}: ${range(ratio, f2)}× (wall), ${range(cpuRatio, f2)}× (CPU)   target ≥ ${TARGET_RATIO}: ${ratio.median >= TARGET_RATIO ? 'met' : 'MISSED'}`,
      );
    };
    ratios('FaultFree', 'Recovered', 'afterRecoveryRatio', 'in one thread');
    ratios(
      'ContainersFaultFree',
      'ContainersRecovered',
      'afterRecoveryContainersRatio',
      `on ${CONTAINERS} containers`,
    );
    return { lines, figures };
  },
};
