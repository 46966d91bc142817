import { runMachineDataHandLoop } from './machine-data-hand-loop.ts';
import { type MdJob, type MdJobResult, runMdIsolated, runMdJob } from './machine-data-jobs.ts';
import type { MdCheckpointing } from './machine-data-pipeline.ts';
import { type MdWorkload, mdReadings } from './machine-data-workload.ts';
import { perSecond, spread } from './measure.ts';
import { TARGET_GC_PERCENT, TARGET_OVERHEAD_PERCENT, TARGET_RSS_RATIO } from './replay-buffers.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

interface Setting {
  readonly key: 'Off' | 'Buffers' | 'Default';
  readonly label: string;
  readonly checkpointing: MdCheckpointing;
}

const SETTINGS: readonly Setting[] = [
  { key: 'Off', label: 'checkpoints off', checkpointing: 'off' },
  { key: 'Buffers', label: 'every 10, upstream buffers', checkpointing: 'buffers' },
  { key: 'Default', label: 'every 10, default (no buffers)', checkpointing: 'default' },
];

/**
 * What the replay buffers cost the real workload: the case study (64 dimensions, the operators of
 * actors/machine-data) with every stream 'container', so that every stream is a queued channel and every
 * one behind an operator with durable state keeps a buffer: the readings (12 numbers: columns), the
 * dimension batches (typed arrays: CBOR), the partial sums (columns) and the average records (a string and
 * a nested object each: CBOR). The section before measures the same on the 4-dimension stand-in, whose
 * operators do so little per tuple that the encoding is a large share of it.
 *
 * The case-study section's workload (65,536 readings a window, application windows of 10), for 30 windows
 * instead of 20 so that the buffers reach their steady state: with a commit every 10 windows, the first
 * ~11 windows' buffers are fresh memory, the later ones reuse it.
 */
export const replayBuffersCaseStudySection: Section = {
  title: "replay buffers: the case study, every stream 'container', with and without buffers",
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: MdWorkload = o.quick
      ? { windows: 12, readingsPerWindow: 4096, applicationWindowCount: 10 }
      : { windows: 30, readingsPerWindow: 65_536, applicationWindowCount: 10 };
    const readings = mdReadings(w);
    const reference = runMachineDataHandLoop(w).toString();
    const runs = new Map<Setting['key'], MdJobResult[]>(SETTINGS.map((s) => [s.key, []]));
    o.progress(`replay buffers, case study: ${SETTINGS.map((s) => s.label).join(', ')} × ${o.runs} rounds`);
    for (let i = 0; i < o.runs; i++) {
      // The order rotates each round: no setting always runs right after another (a fresh process's
      // first runs on a warm or cold page cache and CPU frequency), so position is not read as cost.
      for (const s of SETTINGS.map((_, k) => SETTINGS[(k + i) % SETTINGS.length]!)) {
        const job: MdJob = { variant: 'mailbox', workload: w, checkpointing: s.checkpointing };
        const r = o.isolate ? await runMdIsolated(job) : await runMdJob(job);
        if (r.checksum !== reference) {
          throw new BenchError(
            `replay buffers, case study, ${s.label}: checksum ${r.checksum} differs from ${reference}`,
          );
        }
        runs.get(s.key)!.push(r);
      }
    }
    const of = (key: Setting['key'], f: (r: MdJobResult) => number) => spread(runs.get(key)!.map(f));
    const rate = (r: MdJobResult) => perSecond(readings, r.ms);
    const gcShare = (r: MdJobResult) => (r.gcMs / r.ms) * 100;
    const off = runs.get('Off')!;
    // Per round, so that each overhead compares runs made under the same load.
    const overhead = (key: Setting['key']) =>
      spread(runs.get(key)!.map((r, i) => (1 - rate(r) / rate(off[i]!)) * 100));
    const extraCpu = (key: Setting['key']) =>
      spread(runs.get(key)!.map((r, i) => (r.cpuMs / off[i]!.cpuMs - 1) * 100));
    const percent = (x: { median: number; min: number; max: number }) =>
      `${x.median.toFixed(1)} % [${x.min.toFixed(0)}–${x.max.toFixed(0)}]`;
    const lines = [
      `  ${w.windows} windows × ${w.readingsPerWindow.toLocaleString('en')} readings = ${readings.toLocaleString('en')} readings per run, 64 dimensions, application windows of ${w.applicationWindowCount}, a fresh LevelDB store per run`,
      `  medians of ${o.runs} interleaved rounds, each run in a fresh process; [min–max] across rounds`,
      `  ${'setting'.padEnd(32)} ${'readings/s'.padEnd(26)} ${'overhead vs off'.padEnd(20)} ${'CPU time vs off'.padEnd(20)} ${'peak RSS'.padEnd(18)} GC share of main thread`,
    ];
    const figures: Record<string, number> = {};
    for (const s of SETTINGS) {
      const t = of(s.key, rate);
      const m = of(s.key, (r) => r.peakRssMb);
      const g = of(s.key, gcShare);
      const over = s.key === 'Off' ? undefined : overhead(s.key);
      const cpu = s.key === 'Off' ? undefined : extraCpu(s.key);
      lines.push(
        `  ${s.label.padEnd(32)} ${`${k(t.median)} k/s [${k(t.min)}–${k(t.max)}]`.padEnd(26)} ` +
          `${(over ? percent(over) : '—').padEnd(20)} ${(cpu ? `${cpu.median >= 0 ? '+' : ''}${percent(cpu)}` : '—').padEnd(20)} ` +
          `${`${m.median.toFixed(0)} MB [${m.min.toFixed(0)}–${m.max.toFixed(0)}]`.padEnd(18)} ` +
          `${g.median.toFixed(1)} % [${g.min.toFixed(1)}–${g.max.toFixed(1)}]`,
      );
      figures[`replayBuffersCaseStudy${s.key}MedianReadingsPerSec`] = Math.round(t.median);
      figures[`replayBuffersCaseStudy${s.key}PeakRssMbMedian`] = Math.round(m.median);
      figures[`replayBuffersCaseStudy${s.key}GcSharePercentMedian`] = round1(g.median);
      if (over) figures[`replayBuffersCaseStudy${s.key}OverheadPercentMedian`] = round1(over.median);
      if (cpu) figures[`replayBuffersCaseStudy${s.key}ExtraCpuPercentMedian`] = round1(cpu.median);
    }
    const over = overhead('Buffers').median;
    const rss = of('Buffers', (r) => r.peakRssMb).median / of('Default', (r) => r.peakRssMb).median;
    const gc = of('Buffers', gcShare).median;
    figures.replayBuffersCaseStudyPeakRssRatio = Math.round(rss * 100) / 100;
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    lines.push(
      `  with buffers: overhead ${over.toFixed(1)} % (target ≤ ${TARGET_OVERHEAD_PERCENT} %: ${verdict(over <= TARGET_OVERHEAD_PERCENT)}); ` +
        `peak RSS ${rss.toFixed(2)}× that without buffers (target ≤ ${TARGET_RSS_RATIO}×: ${verdict(rss <= TARGET_RSS_RATIO)}); ` +
        `GC share ${gc.toFixed(1)} % (target ≤ ${TARGET_GC_PERCENT} %: ${verdict(gc <= TARGET_GC_PERCENT)})`,
    );
    return { lines, figures };
  },
};

function k(perSec: number): string {
  return (perSec / 1000).toFixed(0);
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
