import {
  type AverageChecksum,
  DIMENSIONS,
  KEY_ENCODING_DESCRIPTION,
  type KeyEncoding,
  totalReadings,
  type Workload,
} from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { formatRate, type Measured, measure, perSecond } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';
import { runSluice } from './sluice-pipeline.ts';
import { runStreamPipeline } from './stream-pipeline.ts';

/**
 * Virtual time closes a window after 64 emitTuples() rounds: the receiver emits a window's readings in
 * 32 calls of 1024, well inside it (a window cut short would show as a checksum mismatch).
 */
export const READINGS_PER_WINDOW = 32 * 1024;

interface Variant {
  readonly label: string;
  readonly key: string;
  readonly run: (w: Workload, keys: KeyEncoding) => AverageChecksum | Promise<AverageChecksum>;
}

const VARIANTS: readonly Variant[] = [
  { label: '(c) hand-written loop', key: 'handLoop', run: runHandLoop },
  {
    label: "(a) sluice, locality 'thread' (fused)",
    key: 'fused',
    run: (w, keys) => runSluice('thread', w, keys),
  },
  {
    label: "(b) sluice, locality 'container' (mailboxes)",
    key: 'mailbox',
    run: (w, keys) => runSluice('container', w, keys),
  },
  { label: '(d) stream.pipeline of object-mode Transforms', key: 'streamPipeline', run: runStreamPipeline },
];

/** The case study's pipeline in four implementations doing the same work; throughput in readings/s. */
export const caseStudySection: Section = {
  title: 'case study: InputReceiver → GenerateDimensions → PrereqAverage → Average',
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: Workload = { windows: o.quick ? 4 : 128, readingsPerWindow: READINGS_PER_WINDOW };
    const warm: Workload = { windows: 4, readingsPerWindow: READINGS_PER_WINDOW };
    const readings = totalReadings(w);
    let reference: string | undefined;
    const check = (label: string) => (c: AverageChecksum) => {
      if (c.tuples !== readings * DIMENSIONS) {
        throw new BenchError(`${label}: averaged ${c.tuples} dimension tuples, not ${readings * DIMENSIONS}`);
      }
      reference ??= c.toString();
      if (c.toString() !== reference) {
        throw new BenchError(`${label}: checksum of averages ${c.toString()} differs from ${reference}`);
      }
    };
    const rates = new Map<string, { best: number; median: number; m: Measured<AverageChecksum> }>();
    for (const v of VARIANTS) {
      o.progress(`${v.label}: ${readings} readings × ${o.runs} runs`);
      const m = await measure(() => v.run(w, o.keys), {
        runs: o.runs,
        warmUp: () => v.run(warm, o.keys),
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
    const verdict = (v: number, target: number) => `target ≥ ${target}: ${v >= target ? 'met' : 'MISSED'}`;
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
