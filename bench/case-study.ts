import {
  type MdJob,
  type MdJobResult,
  type MdVariant,
  runMdIsolated,
  runMdJob,
} from './machine-data-jobs.ts';
import { MD_DIMENSIONS, type MdWorkload, mdReadings } from './machine-data-workload.ts';
import { formatRate } from './measure.ts';
import type { BenchOptions, Section, SectionReport } from './section.ts';

interface Variant {
  readonly key: MdVariant;
  readonly label: string;
}

const VARIANTS: readonly Variant[] = [
  { key: 'handLoop', label: 'hand-written loop (no framework)' },
  { key: 'fused', label: "sluice, every stream 'thread' (fused)" },
  { key: 'caseStudy', label: "sluice, the seeds' localities" },
  { key: 'mailbox', label: "sluice, every stream 'container'" },
  { key: 'streamBatched', label: 'stream.pipeline, 1,024-tuple chunks' },
  { key: 'streamObjects', label: 'stream.pipeline, one tuple a chunk' },
];

/** Targets of issue 9 on this workload, as ratios of per-core throughput in the same run. */
const TARGETS: readonly { name: string; of: MdVariant; to: MdVariant; target: number }[] = [
  { name: 'fusedVsHandLoop', of: 'fused', to: 'handLoop', target: 0.6 },
  { name: 'mailboxVsHandLoop', of: 'mailbox', to: 'handLoop', target: 0.3 },
  { name: 'caseStudyVsHandLoop', of: 'caseStudy', to: 'handLoop', target: 0.5 },
  { name: 'fusedVsStreamBatched', of: 'fused', to: 'streamBatched', target: 1 },
  { name: 'caseStudyVsStreamBatched', of: 'caseStudy', to: 'streamBatched', target: 1 },
];

/**
 * The case study itself (seed 001, examples/machine-data), as the headline figures: the real operators of
 * actors/machine-data on the 64-dimension workload (78,336 keys), application windows of 10 streaming
 * windows, sluice on LevelDB with the product's default checkpointing (every 10 windows), against a
 * hand-written loop and stream.pipeline around the same operators. Rounds are interleaved (each round
 * runs every variant once, in a rotated order, each in a fresh process); figures are medians with their
 * range. A variant that fails is marked and the rest still reported.
 */
export const caseStudySection: Section = {
  title: 'case study: readings → 64 dimensions → partial sums → averages and alerts',
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: MdWorkload = o.quick
      ? { windows: 10, readingsPerWindow: 4096, applicationWindowCount: 10 }
      : { windows: 20, readingsPerWindow: 65_536, applicationWindowCount: 10 };
    const readings = mdReadings(w);
    // Indexed by round (undefined: that round's run failed or was wrong), so ratios pair runs of a round.
    const results = new Map<MdVariant, (MdJobResult | undefined)[]>(VARIANTS.map((v) => [v.key, []]));
    const failures: string[] = [];
    const wrong: string[] = [];
    let reference: string | undefined;
    for (let round = 0; round < o.runs; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
      for (const v of order) {
        o.progress(
          `case study round ${round + 1}/${o.runs}: ${v.label}, ${readings.toLocaleString('en')} readings`,
        );
        const job: MdJob = { variant: v.key, workload: w };
        results.get(v.key)![round] = undefined;
        try {
          const r = o.isolate ? await runMdIsolated(job) : await runMdJob(job);
          if (r.tuples !== readings * MD_DIMENSIONS) {
            wrong.push(`${v.key}: averaged ${r.tuples} dimension tuples, not ${readings * MD_DIMENSIONS}`);
          } else if ((reference ??= r.checksum) !== r.checksum) {
            wrong.push(`${v.key}: checksum ${r.checksum} differs from ${reference}`);
          } else results.get(v.key)![round] = r;
        } catch (e) {
          failures.push(`${v.key} (round ${round + 1}): ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    return report(w, results, failures, wrong, reference);
  },
};

interface Stats {
  readonly runs: number;
  /** Readings per second of wall time: median, slowest, fastest run. */
  readonly wall: readonly [median: number, min: number, max: number];
  /** Readings per CPU second of the process (all its threads): the per-core figure. */
  readonly perCore: readonly [median: number, min: number, max: number];
  readonly peakRssMb: number;
  readonly checkpoints: number;
}

function statsOf(readings: number, all: readonly (MdJobResult | undefined)[]): Stats | undefined {
  const rs = all.filter((r) => r !== undefined);
  if (rs.length === 0) return undefined;
  const rates = (ms: number[]) => spread(ms.map((m) => (readings * 1000) / m));
  return {
    runs: rs.length,
    wall: rates(rs.map((r) => r.ms)),
    perCore: rates(rs.map((r) => r.cpuMs)),
    peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
    checkpoints: rs[0]!.checkpoints,
  };
}

function spread(values: number[]): [number, number, number] {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return [median, s[0]!, s[s.length - 1]!];
}

function report(
  w: MdWorkload,
  results: Map<MdVariant, (MdJobResult | undefined)[]>,
  failures: string[],
  wrong: string[],
  checksum: string | undefined,
): SectionReport {
  const readings = mdReadings(w);
  const stats = new Map(VARIANTS.map((v) => [v.key, statsOf(readings, results.get(v.key)!)]));
  const figures: Record<string, number | string> = {
    caseStudyReadingsPerRun: readings,
    caseStudyDimensionTuplesPerRun: readings * MD_DIMENSIONS,
    caseStudyWorkload: `${w.windows} windows × ${w.readingsPerWindow} readings, application windows of ${w.applicationWindowCount}, 64 dimensions (78,336 keys), checkpoints every 10 windows (sluice)`,
    caseStudyChecksum: checksum ?? 'none',
  };
  const lines = [
    `  workload: ${w.windows} windows × ${w.readingsPerWindow.toLocaleString('en')} readings = ${readings.toLocaleString('en')} readings, 64 dimension tuples each (78,336 keys); application windows of ${w.applicationWindowCount}`,
    '  sluice: real operators (actors/machine-data), LevelDB store, default checkpointing (every 10 windows); medians of interleaved rounds, each run in a fresh process',
    `  ${'variant'.padEnd(38)} ${'readings/s'.padStart(11)} ${'(range)'.padEnd(21)} ${'per core'.padStart(10)} ${'dim. tuples/s/core'.padStart(18)}  peak RSS`,
  ];
  for (const v of VARIANTS) {
    const s = stats.get(v.key);
    if (s === undefined) {
      lines.push(`  ${v.label.padEnd(38)} FAILED (no run completed)`);
      figures[`${v.key}Failed`] = 'no run completed';
      continue;
    }
    const range = `${formatRate(s.wall[1])}–${formatRate(s.wall[2])}`;
    lines.push(
      `  ${v.label.padEnd(38)} ${formatRate(s.wall[0]).padStart(11)} ${`(${range})`.padEnd(21)} ${formatRate(s.perCore[0]).padStart(10)} ${formatRate(s.perCore[0] * MD_DIMENSIONS).padStart(18)}  ${s.peakRssMb} MB`,
    );
    Object.assign(figures, {
      [`${v.key}ReadingsPerSec`]: Math.round(s.wall[0]),
      [`${v.key}ReadingsPerSecMin`]: Math.round(s.wall[1]),
      [`${v.key}ReadingsPerSecMax`]: Math.round(s.wall[2]),
      [`${v.key}ReadingsPerCoreSec`]: Math.round(s.perCore[0]),
      [`${v.key}DimensionTuplesPerCoreSec`]: Math.round(s.perCore[0] * MD_DIMENSIONS),
      [`${v.key}Runs`]: s.runs,
      [`${v.key}PeakRssMb`]: s.peakRssMb,
    });
  }
  lines.push(
    '  ratios of per-core throughput (readings per CPU second), taken per round, median [min–max]; wall-time ratio after:',
  );
  for (const t of TARGETS) {
    // Runs of the same round, a few seconds apart: a change of load on the machine hits both alike.
    const a = results.get(t.of)!;
    const b = results.get(t.to)!;
    const rounds = a.flatMap((r, i) => (r !== undefined && b[i] !== undefined ? [[r, b[i]!] as const] : []));
    if (rounds.length === 0) {
      lines.push(`  ${t.name.padEnd(26)}     n/a   (a variant failed)`);
      continue;
    }
    const perCore = spread(rounds.map(([x, y]) => y.cpuMs / x.cpuMs));
    const wall = spread(rounds.map(([x, y]) => y.ms / x.ms));
    const ratio = round3(perCore[0]);
    figures[t.name] = ratio;
    figures[`${t.name}Wall`] = round3(wall[0]);
    const verdict = ratio >= t.target ? 'met' : 'MISSED';
    const range = (x: readonly number[]) => `${x[0]!.toFixed(3)} [${x[1]!.toFixed(2)}–${x[2]!.toFixed(2)}]`;
    lines.push(
      `  ${t.name.padEnd(26)} ${range(perCore).padEnd(22)} wall ${range(wall).padEnd(22)} target ≥ ${t.target}: ${verdict}`,
    );
  }
  for (const f of failures) lines.push(`  FAILED ${f}`);
  for (const f of wrong) lines.push(`  WRONG ${f}`);
  if (failures.length > 0) figures.caseStudyFailures = failures.join('; ');
  if (wrong.length > 0) figures.caseStudyWrong = wrong.join('; ');
  lines.push(
    `  checksum of averages and alerts (value:records:alerts:tuples): ${checksum ?? 'none'} — the same in every variant`,
  );
  return { lines, figures, wrong };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
