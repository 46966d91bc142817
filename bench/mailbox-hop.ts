import { BATCH, TUPLES_PER_WINDOW } from './hop-pipeline.ts';
import { type Job, runIsolated, runJob } from './jobs.ts';
import { formatRate, measure, perSecond } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

/**
 * One bare mailbox hop: a source → a sink doing nothing, through a container-local channel. The headline
 * figure carries numbers (SequenceSource); the second carries one small object per tuple.
 */
export const mailboxHopSection: Section = {
  title: 'mailbox hop: source → sink doing nothing, locality container',
  async run(o: BenchOptions): Promise<SectionReport> {
    const windows = o.quick ? 8 : 160;
    const expected = windows * TUPLES_PER_WINDOW;
    const lines = [`  ${expected.toLocaleString('en')} tuples in ${windows} windows, batches of ${BATCH}`];
    const figures: Record<string, number> = { mailboxHopTuples: expected };
    for (const tuples of ['numbers', 'objects'] as const) {
      o.progress(`mailbox hop (${tuples}): ${expected} tuples × ${o.runs} runs`);
      const job = (w: number): Job => ({ kind: 'hop', tuples, windows: w });
      const check = ({ tuples: n }: { tuples: number }) => {
        if (n !== expected) throw new BenchError(`mailbox hop: the sink saw ${n} tuples, not ${expected}`);
      };
      const m = o.isolate
        ? await measure(() => runIsolated(job(windows)), { runs: o.runs, check })
        : await measure(() => runJob(job(windows)), { runs: o.runs, warmUp: () => runJob(job(8)), check });
      const rate = perSecond(expected, m.bestMs);
      const name = tuples === 'numbers' ? 'mailboxHop' : 'mailboxHopObjects';
      figures[`${name}TuplesPerSec`] = Math.round(rate);
      figures[`${name}MedianTuplesPerSec`] = Math.round(perSecond(expected, m.medianMs));
      const label =
        tuples === 'numbers'
          ? 'one hop, number tuples (SequenceSource):'
          : 'one hop, object tuples ({ seq }):';
      const target = tuples === 'numbers' ? `   target ≥ 10 M/s: ${rate >= 10e6 ? 'met' : 'MISSED'}` : '';
      const ms = `best ${m.bestMs.toFixed(0)} ms, median ${m.medianMs.toFixed(0)} ms`;
      lines.push(`  ${label.padEnd(42)} ${formatRate(rate).padStart(10)}   (${ms})${target}`);
    }
    return { lines, figures };
  },
};
