import { tmpdir } from 'node:os';
import type { Locality } from '../src/index.ts';
import { READINGS_PER_WINDOW, totalReadings, type Workload } from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { type Job, type JobResult, runIsolated, runJob } from './jobs.ts';
import { formatRate, perSecond, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

/** Checkpoint every K windows; 0 is off (the baseline). Run in this order, interleaved, every round. */
const EVERY = [0, 10, 1] as const;
const TARGET_PERCENT = 10;

const LOCALITIES: readonly {
  locality: Locality;
  key: string;
  label: string;
  replayFrom?: 'buffers' | 'sources';
}[] = [
  { locality: 'thread', key: 'Fused', label: "(a) locality 'thread' (fused)" },
  { locality: 'container', key: 'Mailbox', label: "(b) locality 'container' (mailboxes)" },
  {
    locality: 'container',
    key: 'MailboxSources',
    label: "(c) locality 'container', replayFrom 'sources' (no upstream buffers)",
    replayFrom: 'sources',
  },
];

/**
 * The cost of checkpointing: the case-study pipeline on a real LevelDB store (a fresh temporary directory
 * per run), checkpoints every window, every 10 windows, and off, for the fused and the mailbox pipeline.
 * The three settings run interleaved (off, 10, 1, off, 10, 1, …) so that a change of load on the machine
 * hits all three alike.
 */
export const checkpointOverheadSection: Section = {
  title: 'checkpoint overhead: the case study on a LevelSnapshotStore, virtual time',
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: Workload = { windows: o.quick ? 4 : 128, readingsPerWindow: READINGS_PER_WINDOW };
    const warm: Workload = { windows: 4, readingsPerWindow: READINGS_PER_WINDOW };
    const readings = totalReadings(w);
    const reference = runHandLoop(w, o.keys).toString();
    const warmReference = runHandLoop(warm, o.keys).toString();
    const lines = [
      `  ${w.windows} windows × ${w.readingsPerWindow} readings = ${readings.toLocaleString('en')} readings per run, keys ${o.keys}, a fresh LevelSnapshotStore in ${tmpdir()} per run`,
      '  virtual time closes a window as soon as its 32,768 readings are through (2–30 ms), so "every window"',
      '  is a worst case: a real window (500 ms by default) carries far more work per checkpoint.',
      '  throughput in readings/s, best run; overhead = 1 − throughput / throughput with checkpoints off:',
    ];
    const figures: Record<string, number> = {};
    for (const { locality, key, label, replayFrom } of LOCALITIES) {
      o.progress(`checkpoint overhead, ${label}: every ${EVERY.join(', ')} (0 = off) × ${o.runs} runs`);
      const job = (every: number, workload: Workload): Job => ({
        kind: 'on-disk',
        locality,
        keys: o.keys,
        workload,
        every,
        replayFrom,
      });
      const check = (every: number, expected: string, r: JobResult) => {
        if (r.checksum !== expected) {
          throw new BenchError(
            `checkpoint overhead, ${label}, every ${every}: checksum ${r.checksum} differs from ${expected}`,
          );
        }
        return r;
      };
      if (!o.isolate) {
        for (const every of EVERY) check(every, warmReference, await runJob(job(every, warm)));
      }
      const runs = new Map<number, JobResult[]>(EVERY.map((k) => [k, []]));
      for (let i = 0; i < o.runs; i++) {
        for (const every of EVERY) {
          const r = await (o.isolate ? runIsolated(job(every, w)) : runJob(job(every, w)));
          runs.get(every)!.push(check(every, reference, r));
        }
      }
      const stats = (every: number) => spread(runs.get(every)!.map((r) => r.ms));
      const offRate = perSecond(readings, stats(0).min);
      lines.push(`  ${label}`);
      for (const every of EVERY) {
        const s = stats(every);
        const rate = perSecond(readings, s.min);
        const last = runs.get(every)!.at(-1)!;
        const name = every === 0 ? 'off' : every === 1 ? 'every window' : `every ${every} windows`;
        const ms = `best ${s.min.toFixed(0)} ms, median ${s.median.toFixed(0)} ms`;
        let overhead = '';
        if (every > 0) {
          const percent = (1 - rate / offRate) * 100;
          const target =
            every === 10
              ? `   target ≤ ${TARGET_PERCENT} %: ${percent <= TARGET_PERCENT ? 'met' : 'MISSED'}`
              : '';
          overhead = `   overhead ${percent.toFixed(1).padStart(5)} %${target}`;
          figures[`checkpointEvery${every}Overhead${key}`] = round(percent, 1);
        }
        figures[`checkpointEvery${every}${key}TuplesPerSec`] = Math.round(rate);
        const written = every === 0 ? '' : `, ${last.snapshots} snapshots, ${last.commits} commits`;
        lines.push(
          `    checkpoints ${name.padEnd(16)} ${formatRate(rate).padStart(10)}   (${ms}${written})${overhead}`,
        );
      }
    }
    return { lines, figures };
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
