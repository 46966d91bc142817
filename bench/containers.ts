import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runInChild } from './child-process.ts';
import type { ContainersJob, ContainersResult, ContainersVariant } from './containers-run.ts';
import { MD_DIMENSIONS, type MdWorkload, mdReadings } from './machine-data-workload.ts';
import { formatRate, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const RUNNER = fileURLToPath(new URL('./containers-run.ts', import.meta.url));

const LABELS: Record<ContainersVariant, string> = {
  handLoop: 'hand-written loop, one core',
  p1: '1 partition, 2 containers',
  p2: '2 partitions, 2 containers',
};

/**
 * Two variants of the case study (64 dimensions, bench/containers-app.ts), interleaved rounds (the order
 * alternates), each run in a fresh process (bench/containers-run.ts); the checksum of every run must be
 * the first one's. Figures: readings per second of wall time (the point of containers is wall time: more
 * cores on one job), medians [min–max]; the ratio `of / to` taken per round, its median and range.
 */
async function compare(
  o: BenchOptions,
  name: string,
  of: ContainersVariant,
  to: ContainersVariant,
  target: number,
  figure: string,
): Promise<SectionReport> {
  const w: MdWorkload = o.quick
    ? { windows: 10, readingsPerWindow: 8192, applicationWindowCount: 10 }
    : { windows: 20, readingsPerWindow: 65_536, applicationWindowCount: 10 };
  const readings = mdReadings(w);
  const rounds = Math.max(o.runs, o.quick ? 1 : 3);
  const load = loadavg()[0]!;
  const runs = new Map<ContainersVariant, ContainersResult[]>([
    [to, []],
    [of, []],
  ]);
  let reference: string | undefined;
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [to, of] : [of, to];
    for (const v of order) {
      o.progress(`${name}: round ${i + 1} of ${rounds}, ${LABELS[v]}`);
      const job: ContainersJob = { variant: v, workload: w };
      const r = await runInChild<ContainersResult>(RUNNER, job, `${name} ${v}`);
      if (r.tuples !== readings * MD_DIMENSIONS || (reference ??= r.checksum) !== r.checksum)
        throw new BenchError(`${name} ${v}: checksum ${r.checksum} differs from ${reference}`);
      runs.get(v)!.push(r);
    }
  }
  const rate = (r: ContainersResult) => (readings * 1000) / r.ms;
  const lines = [
    `  ${w.windows} windows × ${w.readingsPerWindow.toLocaleString('en')} readings = ${readings.toLocaleString('en')} readings per run, 64 dimension tuples each; application windows of ${w.applicationWindowCount}`,
    "  sluice: examples/machine-data's DAG and localities, LevelDB store, checkpoints every 10 windows, virtual time, readings partitioned by device, no warm spare workers; timed from `started` (worker start-up apart)",
    `  ${rounds} interleaved rounds, fresh processes; medians [min–max]; load average ${load.toFixed(2)} at the start`,
  ];
  const figures: Record<string, number> = {};
  for (const v of [to, of]) {
    const rs = runs.get(v)!;
    const t = spread(rs.map(rate));
    const busy = spread(rs.map((r) => r.cpuMs / r.ms));
    const start = spread(rs.map((r) => r.startMs));
    // CPU per reading (the process: every thread), steadier than wall time on a shared, loaded machine.
    const perReading = spread(rs.map((r) => (r.cpuMs * 1000) / readings));
    lines.push(
      `  ${LABELS[v].padEnd(30)} ${formatRate(t.median).padStart(10)} [${formatRate(t.min)}–${formatRate(t.max)}]` +
        `   CPU/wall ${busy.median.toFixed(2)} [${busy.min.toFixed(2)}–${busy.max.toFixed(2)}]` +
        `   CPU/reading ${perReading.median.toFixed(2)} µs [${perReading.min.toFixed(2)}–${perReading.max.toFixed(2)}]` +
        `   peak RSS ${Math.max(...rs.map((r) => r.peakRssMb))} MB` +
        `   page faults ${(spread(rs.map((r) => r.pageFaults ?? 0)).median / 1000).toFixed(1)} k` +
        (v === 'handLoop' ? '' : `   start-up ${Math.round(start.median)} ms`) +
        (rs.some((r) => r.restarts > 0)
          ? `   restarts ${rs.map((r) => r.restarts).join(', ')} (containers replaced: timed with their recovery)`
          : ''),
    );
    figures[`${figure}_${v}MedianReadingsPerSec`] = Math.round(t.median);
    figures[`${figure}_${v}CpuPerWall`] = Math.round(busy.median * 100) / 100;
    figures[`${figure}_${v}CpuMicrosPerReading`] = Math.round(perReading.median * 100) / 100;
  }
  const ratio = spread(runs.get(of)!.map((r, i) => rate(r) / rate(runs.get(to)![i]!)));
  lines.push(
    `  ${LABELS[of]} / ${LABELS[to]}: ${ratio.median.toFixed(2)}× [${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}]` +
      `   target ≥ ${target}×: ${ratio.median >= target ? 'met' : 'MISSED'}`,
    `  checksum (value:records:alerts:tuples): ${reference} — the same in every run`,
  );
  figures[figure] = Math.round(ratio.median * 100) / 100;
  // Per CPU second (the process's, every thread): what each costs in work, which a loaded machine moves
  // less than wall time. Two containers can beat one core by at most 2× this on 2 idle cores.
  const perCpu = spread(runs.get(of)!.map((r, i) => runs.get(to)![i]!.cpuMs / r.cpuMs));
  lines.splice(
    lines.length - 1,
    0,
    `  readings per CPU second, ${LABELS[of]} / ${LABELS[to]}: ${perCpu.median.toFixed(2)}× [${perCpu.min.toFixed(2)}–${perCpu.max.toFixed(2)}]`,
  );
  figures[`${figure}PerCpu`] = Math.round(perCpu.median * 100) / 100;
  lines.splice(lines.length - 1, 0, `  load average ${loadavg()[0]!.toFixed(2)} at the end`);
  return { lines, figures };
}

/** The case study's heavy stage at 1 and 2 partitions, both on 2 containers: does a second core help? */
export const containersPartitionsSection: Section = {
  title: 'containers: the case study with its heavy stage at 1 and 2 partitions on 2 containers',
  run: (o) => compare(o, 'containers partitions', 'p2', 'p1', 1.6, 'containersTwoPartitionsVsOne'),
};

/** The case study on 2 containers against the hand-written loop on one core: do containers beat one core? */
export const containersVsHandLoopSection: Section = {
  title: 'containers: the case study on 2 containers against the hand-written loop on one core',
  run: (o) => compare(o, 'containers vs hand loop', 'p2', 'handLoop', 1.2, 'containersVsHandLoop'),
};
