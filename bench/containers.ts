import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runInChild } from './child-process.ts';
import type { ContainersJob, ContainersResult, ContainersVariant } from './containers-run.ts';
import { MD_DIMENSIONS, type MdWorkload, mdReadings } from './machine-data-workload.ts';
import { formatRate, type Span, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const RUNNER = fileURLToPath(new URL('./containers-run.ts', import.meta.url));

const LABELS: Record<ContainersVariant, string> = {
  handLoop: 'hand-written loop, one core',
  p1: '1 partition, 2 containers',
  p2: '2 partitions, 2 containers',
};

/**
 * Windows a run takes to warm up, not timed in the headline figures: each worker compiles the hot code on
 * its own (two isolates, two compilations competing with the work for the cores), and the first
 * application windows touch fresh memory, where a streaming job spends its hours in the steady state after
 * them. Every figure is also given for the whole run, from `started`.
 */
const WARMUP_WINDOWS = 20;

/** One span of every run: the steady state after the warm-up (the headline), or the whole run. */
interface SpanView {
  readonly label: string;
  readonly readings: number;
  readonly of: (r: ContainersResult) => Span;
}

/**
 * Two variants of the case study (64 dimensions, bench/containers-app.ts), interleaved rounds (the order
 * alternates), each run in a fresh process (bench/containers-run.ts); the checksum of every run must be
 * the first one's. Figures: readings per second of wall time (the point of containers is wall time: more
 * cores on one job), medians [min–max]; the ratio `of / to` taken per round, its median and range; for
 * the steady state after WARMUP_WINDOWS (the target's figure) and for the whole run.
 * Against the hand loop, each round also times two hand loops at once: the ceiling two cores give.
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
    : { windows: 60, readingsPerWindow: 65_536, applicationWindowCount: 10 };
  const warmup = o.quick ? 5 : WARMUP_WINDOWS;
  const readings = mdReadings(w);
  const rounds = Math.max(o.runs, o.quick ? 1 : 3);
  const load = loadavg()[0]!;
  const runs = new Map<ContainersVariant, ContainersResult[]>([
    [to, []],
    [of, []],
  ]);
  let reference: string | undefined;
  const checked = (r: ContainersResult, what: string): ContainersResult => {
    if (r.tuples !== readings * MD_DIMENSIONS || (reference ??= r.checksum) !== r.checksum)
      throw new BenchError(`${name} ${what}: checksum ${r.checksum} differs from ${reference}`);
    if (r.steady === undefined) throw new BenchError(`${name} ${what}: no end of window ${warmup} was seen`);
    return r;
  };
  const job = (variant: ContainersVariant): ContainersJob => ({
    variant,
    workload: w,
    warmupWindows: warmup,
  });
  // Against the hand loop, each round also runs two hand loops at once: what two cores give at best.
  const pairs: ContainersResult[][] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [to, of] : [of, to];
    for (const v of order) {
      o.progress(`${name}: round ${i + 1} of ${rounds}, ${LABELS[v]}`);
      runs.get(v)!.push(checked(await runInChild<ContainersResult>(RUNNER, job(v), `${name} ${v}`), v));
    }
    if (to === 'handLoop') {
      o.progress(`${name}: round ${i + 1} of ${rounds}, two hand-written loops at once`);
      pairs.push((await twoHandLoops(job('handLoop'))).map((r) => checked(r, 'hand loop pair')));
    }
  }
  const steady: SpanView = {
    label: `steady state (windows ${warmup + 1}–${w.windows})`,
    readings: (w.windows - warmup) * w.readingsPerWindow,
    of: (r) => r.steady!,
  };
  const whole: SpanView = { label: `whole run (windows 1–${w.windows})`, readings, of: (r) => r };
  const lines = [
    `  ${w.windows} windows × ${w.readingsPerWindow.toLocaleString('en')} readings = ${readings.toLocaleString('en')} readings per run, 64 dimension tuples each; application windows of ${w.applicationWindowCount}`,
    "  sluice: examples/machine-data's DAG and localities, LevelDB store, checkpoints every 10 windows, virtual time, readings partitioned by device, no warm spare workers; timed from `started` (worker start-up apart)",
    `  the figures: the steady state after ${warmup} windows of warm-up (each worker compiles the hot code on its own), then the whole run`,
    `  ${rounds} interleaved rounds, fresh processes; medians [min–max]; load average ${load.toFixed(2)} at the start`,
  ];
  const figures: Record<string, number> = {};
  for (const view of [steady, whole]) {
    const headline = view === steady;
    const rate = (r: ContainersResult) => (view.readings * 1000) / view.of(r).ms;
    lines.push(`  ${view.label}:`);
    for (const v of [to, of]) {
      const rs = runs.get(v)!;
      const t = spread(rs.map(rate));
      const busy = spread(rs.map((r) => view.of(r).cpuMs / view.of(r).ms));
      // CPU per reading (the process: every thread), steadier than wall time on a shared, loaded machine.
      const perReading = spread(rs.map((r) => (view.of(r).cpuMs * 1000) / view.readings));
      const start = spread(rs.map((r) => r.startMs));
      lines.push(
        `    ${LABELS[v].padEnd(30)} ${formatRate(t.median).padStart(10)} [${formatRate(t.min)}–${formatRate(t.max)}]` +
          `   CPU/wall ${busy.median.toFixed(2)} [${busy.min.toFixed(2)}–${busy.max.toFixed(2)}]` +
          `   CPU/reading ${perReading.median.toFixed(2)} µs [${perReading.min.toFixed(2)}–${perReading.max.toFixed(2)}]` +
          `   page faults ${(spread(rs.map((r) => view.of(r).pageFaults)).median / 1000).toFixed(1)} k` +
          (headline
            ? ''
            : `   peak RSS ${Math.max(...rs.map((r) => r.peakRssMb))} MB` +
              (v === 'handLoop' ? '' : `   start-up ${Math.round(start.median)} ms`)) +
          (rs.some((r) => r.restarts > 0)
            ? `   restarts ${rs.map((r) => r.restarts).join(', ')} (containers replaced: timed with their recovery)`
            : ''),
      );
      const key = headline ? figure : `${figure}WholeRun`;
      figures[`${key}_${v}MedianReadingsPerSec`] = Math.round(t.median);
      figures[`${key}_${v}CpuPerWall`] = Math.round(busy.median * 100) / 100;
      figures[`${key}_${v}CpuMicrosPerReading`] = Math.round(perReading.median * 100) / 100;
    }
    const ratio = spread(runs.get(of)!.map((r, i) => rate(r) / rate(runs.get(to)![i]!)));
    lines.push(
      `    ${LABELS[of]} / ${LABELS[to]}: ${ratio.median.toFixed(2)}× [${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}]` +
        (headline ? `   target ≥ ${target}×: ${ratio.median >= target ? 'met' : 'MISSED'}` : ''),
    );
    figures[headline ? figure : `${figure}WholeRun`] = Math.round(ratio.median * 100) / 100;
    // Per CPU second (the process's, every thread): what each costs in work, which a loaded machine moves
    // less than wall time. Two containers can beat one core by at most 2× this on 2 idle cores.
    const perCpu = spread(runs.get(of)!.map((r, i) => view.of(runs.get(to)![i]!).cpuMs / view.of(r).cpuMs));
    lines.push(
      `    readings per CPU second, ${LABELS[of]} / ${LABELS[to]}: ${perCpu.median.toFixed(2)}× [${perCpu.min.toFixed(2)}–${perCpu.max.toFixed(2)}]`,
    );
    if (headline) figures[`${figure}PerCpu`] = Math.round(perCpu.median * 100) / 100;
    if (pairs.length > 0) {
      // Both loops' readings over the slower one's time, against one loop alone in the same round.
      const hand = runs.get('handLoop')!;
      const pairRate = (p: ContainersResult[]) =>
        (2 * view.readings * 1000) / Math.max(...p.map((r) => view.of(r).ms));
      const ceiling = spread(pairs.map((p, i) => pairRate(p) / rate(hand[i]!)));
      const share = spread(pairs.map((p, i) => rate(runs.get(of)![i]!) / pairRate(p)));
      lines.push(
        `    two hand-written loops at once (two processes): ${ceiling.median.toFixed(2)}× one loop [${ceiling.min.toFixed(2)}–${ceiling.max.toFixed(2)}], the most two cores give this work here;` +
          ` ${LABELS[of]} reaches ${(share.median * 100).toFixed(0)} % of it [${(share.min * 100).toFixed(0)}–${(share.max * 100).toFixed(0)}]`,
      );
      if (headline) {
        figures[`${figure}TwoCoreCeiling`] = Math.round(ceiling.median * 100) / 100;
        figures[`${figure}ShareOfCeiling`] = Math.round(share.median * 100) / 100;
      }
    }
  }
  lines.push(
    `  load average ${loadavg()[0]!.toFixed(2)} at the end`,
    `  checksum (value:records:alerts:tuples): ${reference} — the same in every run`,
  );
  return { lines, figures };
}

/** Two hand loops in two fresh processes at the same time; both results. */
function twoHandLoops(job: ContainersJob): Promise<ContainersResult[]> {
  return Promise.all(
    ['a', 'b'].map((which) => runInChild<ContainersResult>(RUNNER, job, `hand loop pair ${which}`)),
  );
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
