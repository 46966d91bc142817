import {
  DIMENSIONS,
  KEY_ENCODING_DESCRIPTION,
  READINGS_PER_WINDOW,
  totalReadings,
  type Workload,
} from './case-study-workload.ts';
import { type CaseStudyVariant, type Job, type JobResult, runIsolated, runJob } from './jobs.ts';
import { formatRate, type Measured, measure, perSecond } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

interface Variant {
  readonly label: string;
  readonly key: CaseStudyVariant;
}

const VARIANTS: readonly Variant[] = [
  { label: '(c) hand-written loop', key: 'handLoop' },
  { label: "(a) sluice, locality 'thread' (fused)", key: 'fused' },
  { label: "(b) sluice, locality 'container' (mailboxes)", key: 'mailbox' },
  { label: '(d) stream.pipeline of object-mode Transforms', key: 'streamPipeline' },
];

/** The case study's pipeline in four implementations doing the same work; throughput in readings/s. */
export const caseStudySection: Section = {
  title: 'case study: InputReceiver → GenerateDimensions → PrereqAverage → Average',
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: Workload = { windows: o.quick ? 4 : 128, readingsPerWindow: READINGS_PER_WINDOW };
    const warm: Workload = { windows: 4, readingsPerWindow: READINGS_PER_WINDOW };
    const readings = totalReadings(w);
    let reference: string | undefined;
    const check = (label: string) => (c: JobResult) => {
      if (c.tuples !== readings * DIMENSIONS) {
        throw new BenchError(`${label}: averaged ${c.tuples} dimension tuples, not ${readings * DIMENSIONS}`);
      }
      reference ??= c.checksum;
      if (c.checksum !== reference) {
        throw new BenchError(`${label}: checksum of averages ${c.checksum} differs from ${reference}`);
      }
    };
    const job = (variant: CaseStudyVariant, workload: Workload): Job => ({
      kind: 'case-study',
      variant,
      keys: o.keys,
      workload,
    });
    const rates = new Map<string, { best: number; median: number; m: Measured<JobResult> }>();
    for (const v of VARIANTS) {
      o.progress(`${v.label}: ${readings} readings × ${o.runs} runs`);
      const m = o.isolate
        ? await measure(() => runIsolated(job(v.key, w)), { runs: o.runs, check: check(v.label) })
        : await measure(() => runJob(job(v.key, w)), {
            runs: o.runs,
            warmUp: () => runJob(job(v.key, warm)),
            check: check(v.label),
          });
      rates.set(v.key, { best: perSecond(readings, m.bestMs), median: perSecond(readings, m.medianMs), m });
    }
    const rate = (key: string) => rates.get(key)!.best;
    const ratios = {
      fusedRatio: rate('fused') / rate('handLoop'),
      mailboxRatio: rate('mailbox') / rate('handLoop'),
      vsStreamPipeline: rate('fused') / rate('streamPipeline'),
    };
    const figures: Record<string, number | string> = {};
    for (const [key, r] of rates) {
      figures[`${key}TuplesPerSec`] = Math.round(r.best);
      figures[`${key}MedianTuplesPerSec`] = Math.round(r.median);
    }
    for (const [key, v] of Object.entries(ratios)) figures[key] = round(v, 3);
    Object.assign(figures, {
      checksum: reference!,
      keys: o.keys,
      keyEncoding: KEY_ENCODING_DESCRIPTION[o.keys],
      readingsPerRun: readings,
      dimensionTuplesPerRun: readings * DIMENSIONS,
      windows: w.windows,
      readingsPerWindow: w.readingsPerWindow,
    });
    // On the printed (rounded) ratio, so that 5.000 never reads as missed.
    const verdict = (v: number, target: number) =>
      `target ≥ ${target}: ${round(v, 3) >= target ? 'met' : 'MISSED'}`;
    const lines = [
      `  workload: ${w.windows} windows × ${w.readingsPerWindow} readings = ${readings.toLocaleString('en')} readings, ${DIMENSIONS} dimension tuples each; checkpoints off`,
      `  keys (--keys ${o.keys}): ${KEY_ENCODING_DESCRIPTION[o.keys]} (the same in every variant)`,
      '  throughput in readings (source tuples) per second, best run:',
      ...VARIANTS.map((v) => {
        const r = rates.get(v.key)!;
        const ms = `best ${r.m.bestMs.toFixed(0)} ms, median ${r.m.medianMs.toFixed(0)} ms`;
        return `  ${v.label.padEnd(48)} ${formatRate(r.best).padStart(10)}   (${ms})`;
      }),
      `  a/c fusedRatio        ${ratios.fusedRatio.toFixed(3).padStart(7)}   ${verdict(ratios.fusedRatio, 0.5)}`,
      `  b/c mailboxRatio      ${ratios.mailboxRatio.toFixed(3).padStart(7)}   ${verdict(ratios.mailboxRatio, 0.25)}`,
      `  a/d vsStreamPipeline  ${ratios.vsStreamPipeline.toFixed(3).padStart(7)}   ${verdict(ratios.vsStreamPipeline, 5)}`,
      `  checksum of averages (value:averages:tuples): ${reference} — the same in a, b, c and d`,
    ];
    return { lines, figures };
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
