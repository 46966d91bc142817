import { READINGS_PER_WINDOW, totalReadings, type Workload } from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { type Job, type JobResult, runIsolated, runJob } from './jobs.ts';
import { perSecond, spread as stats } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const EVERY = 10;
/** The targets of the replay buffers (issue "Kernel, part 3"), for this section and the case study's. */
export const TARGET_OVERHEAD_PERCENT = 10;
export const TARGET_RSS_RATIO = 1.5;
export const TARGET_GC_PERCENT = 15;

interface Setting {
  readonly key: 'Off' | 'Buffers' | 'Sources';
  readonly label: string;
  readonly every: number;
  readonly replayFrom: 'buffers' | 'sources';
}

const SETTINGS: readonly Setting[] = [
  { key: 'Off', label: 'checkpoints off', every: 0, replayFrom: 'buffers' },
  { key: 'Buffers', label: `every ${EVERY}, upstream buffers`, every: EVERY, replayFrom: 'buffers' },
  { key: 'Sources', label: `every ${EVERY}, default (no buffers)`, every: EVERY, replayFrom: 'sources' },
];

/**
 * What the replay buffers cost the mailbox pipeline: the case study with every stream through channels,
 * on a LevelSnapshotStore, checkpoints off, every 10 windows with upstream buffers (each queued channel
 * behind a stateful operator keeps each batch, encoded, until its window is committed: src/plan/
 * replay-buffers.ts), and every 10 with replayFrom 'sources' (no buffers). Per run, in a fresh process:
 * throughput, the process's peak RSS, and the share of the run the garbage collector held the main
 * thread. Medians of interleaved rounds (off, buffers, sources; then buffers, sources, off; …), so a
 * change of load on the machine hits the three alike; the range follows in brackets.
 */
export const replayBuffersSection: Section = {
  title: `replay buffers: the mailbox pipeline, checkpoints every ${EVERY} windows, with and without buffers`,
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: Workload = { windows: o.quick ? 4 : 128, readingsPerWindow: READINGS_PER_WINDOW };
    const readings = totalReadings(w);
    const reference = runHandLoop(w, o.keys).toString();
    const job = (s: Setting): Job => ({
      kind: 'on-disk',
      locality: 'container',
      keys: o.keys,
      workload: w,
      every: s.every,
      replayFrom: s.replayFrom,
    });
    const runs = new Map<Setting['key'], JobResult[]>(SETTINGS.map((s) => [s.key, []]));
    o.progress(`replay buffers: ${SETTINGS.map((s) => s.label).join(', ')} × ${o.runs} rounds`);
    for (let i = 0; i < o.runs; i++) {
      // The order rotates each round: no setting always runs right after another (a fresh process's
      // first runs on a warm or cold page cache and CPU frequency), so position is not read as cost.
      for (const s of SETTINGS.map((_, k) => SETTINGS[(k + i) % SETTINGS.length]!)) {
        const r = await (o.isolate ? runIsolated(job(s)) : runJob(job(s)));
        if (r.checksum !== reference) {
          throw new BenchError(
            `replay buffers, ${s.label}: checksum ${r.checksum} differs from ${reference}`,
          );
        }
        runs.get(s.key)!.push(r);
      }
    }
    const of = (key: Setting['key'], f: (r: JobResult) => number) => stats(runs.get(key)!.map(f));
    const rate = (r: JobResult) => perSecond(readings, r.ms);
    const gcShare = (r: JobResult) => ((r.gcMs ?? 0) / r.ms) * 100;
    const rss = (r: JobResult) => r.peakRssMb ?? 0;
    // Per round, so that each overhead compares runs made under the same load.
    const overheads = (key: Setting['key']) =>
      stats(runs.get(key)!.map((r, i) => (1 - rate(r) / rate(runs.get('Off')![i]!)) * 100));
    // CPU time (all threads) is less sensitive than wall time to other work on the machine.
    const extraCpu = (key: Setting['key']) =>
      stats(runs.get(key)!.map((r, i) => ((r.cpuMs ?? 0) / (runs.get('Off')![i]!.cpuMs ?? 1) - 1) * 100));
    const lines = [
      `  ${w.windows} windows × ${w.readingsPerWindow} readings = ${readings.toLocaleString('en')} readings per run, keys ${o.keys}, locality 'container', a fresh LevelSnapshotStore per run`,
      `  medians of ${o.runs} interleaved rounds, each run in a fresh process; [min–max] across rounds`,
      `  ${'setting'.padEnd(34)} ${'throughput'.padEnd(24)} ${'overhead vs off'.padEnd(20)} ${'CPU time vs off'.padEnd(20)} ${'peak RSS'.padEnd(20)} GC share of main thread`,
    ];
    const figures: Record<string, number> = {};
    for (const s of SETTINGS) {
      const t = of(s.key, rate);
      const m = of(s.key, rss);
      const g = of(s.key, gcShare);
      const over = s.key === 'Off' ? undefined : overheads(s.key);
      const cpu = s.key === 'Off' ? undefined : extraCpu(s.key);
      const percent = (x: typeof over) =>
        x ? `${x.median.toFixed(1)} % [${x.min.toFixed(0)}–${x.max.toFixed(0)}]` : '—';
      lines.push(
        `  ${s.label.padEnd(34)} ${`${mps(t.median)} M/s [${mps(t.min)}–${mps(t.max)}]`.padEnd(24)} ` +
          `${percent(over).padEnd(20)} ${(cpu ? `${cpu.median >= 0 ? '+' : ''}${percent(cpu)}` : '—').padEnd(20)} ` +
          `${`${m.median.toFixed(0)} MB [${m.min.toFixed(0)}–${m.max.toFixed(0)}]`.padEnd(20)} ` +
          `${g.median.toFixed(1)} % [${g.min.toFixed(1)}–${g.max.toFixed(1)}]`,
      );
      figures[`replayBuffers${s.key}MedianTuplesPerSec`] = Math.round(t.median);
      figures[`replayBuffers${s.key}PeakRssMbMedian`] = round(m.median);
      figures[`replayBuffers${s.key}GcSharePercentMedian`] = round(g.median);
      if (over) figures[`replayBuffers${s.key}OverheadPercentMedian`] = round(over.median);
      if (cpu) figures[`replayBuffers${s.key}ExtraCpuPercentMedian`] = round(cpu.median);
    }
    const overhead = overheads('Buffers').median;
    const rssRatio = of('Buffers', rss).median / of('Sources', rss).median;
    const rssRatioOff = of('Buffers', rss).median / of('Off', rss).median;
    const gc = of('Buffers', gcShare).median;
    figures.replayBuffersPeakRssRatio = round(rssRatio, 2);
    figures.replayBuffersPeakRssRatioVsOff = round(rssRatioOff, 2);
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    lines.push(
      `  with buffers: overhead ${overhead.toFixed(1)} % (target ≤ ${TARGET_OVERHEAD_PERCENT} %: ${verdict(overhead <= TARGET_OVERHEAD_PERCENT)}); ` +
        `peak RSS ${rssRatio.toFixed(2)}× that without buffers (sources), ${rssRatioOff.toFixed(2)}× that with checkpoints off ` +
        `(target ≤ ${TARGET_RSS_RATIO}×: ${verdict(rssRatio <= TARGET_RSS_RATIO)}); GC share ${gc.toFixed(1)} % ` +
        `(target ≤ ${TARGET_GC_PERCENT} %: ${verdict(gc <= TARGET_GC_PERCENT)})`,
    );
    // The product's default keeps no buffers (replay by recomputation): the same targets for what users get.
    const defaultOverhead = overheads('Sources').median;
    const defaultRss = of('Sources', rss).median / of('Off', rss).median;
    const defaultGc = of('Sources', gcShare).median;
    lines.push(
      `  the default (replayFrom 'sources', no buffers): overhead ${defaultOverhead.toFixed(1)} % (target ≤ ${TARGET_OVERHEAD_PERCENT} %: ${verdict(defaultOverhead <= TARGET_OVERHEAD_PERCENT)}); ` +
        `peak RSS ${defaultRss.toFixed(2)}× that with checkpoints off (target ≤ ${TARGET_RSS_RATIO}×: ${verdict(defaultRss <= TARGET_RSS_RATIO)}); ` +
        `GC share ${defaultGc.toFixed(1)} % (target ≤ ${TARGET_GC_PERCENT} %: ${verdict(defaultGc <= TARGET_GC_PERCENT)})`,
    );
    return { lines, figures };
  },
};

/** Millions per second, 2 decimals. */
function mps(perSec: number): string {
  return (perSec / 1e6).toFixed(2);
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
