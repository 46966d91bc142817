import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Locality, launch } from '../src/index.ts';
import { READINGS_PER_WINDOW } from './case-study.ts';
import { AverageChecksum, type KeyEncoding, totalReadings, type Workload } from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { collectGarbage, formatRate, perSecond, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';
import { caseStudyApp } from './sluice-pipeline.ts';

/** Checkpoint every K windows; 0 is off (the baseline). Run in this order, interleaved, every round. */
const EVERY = [0, 10, 1] as const;
const TARGET_PERCENT = 10;

const LOCALITIES: readonly { locality: Locality; key: string; label: string }[] = [
  { locality: 'thread', key: 'Fused', label: "(a) locality 'thread' (fused)" },
  { locality: 'container', key: 'Mailbox', label: "(b) locality 'container' (mailboxes)" },
];

interface CheckpointedRun {
  readonly ms: number;
  readonly checksum: AverageChecksum;
  readonly snapshots: number;
  readonly commits: number;
}

/**
 * One run of the case-study pipeline on a LevelSnapshotStore in a fresh temporary directory (removed
 * after), timed from launch() to `await run.done` (opening the store and the final checkpoint and commit
 * included; creating and removing the directory not).
 */
async function runCheckpointed(
  locality: Locality,
  workload: Workload,
  keys: KeyEncoding,
  every: number,
): Promise<CheckpointedRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-checkpoint-'));
  try {
    const into = new AverageChecksum();
    let snapshots = 0;
    let commits = 0;
    collectGarbage();
    const start = process.hrtime.bigint();
    const run = await launch(caseStudyApp({ locality, workload, keys, into }), {
      store: dir,
      virtualTime: true,
      windows: workload.windows,
      checkpointWindowCount: every,
    });
    run.on('status', (e) => {
      if (e.type === 'checkpoint') snapshots++;
      else if (e.type === 'commit') commits++;
    });
    await run.done;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return { ms, checksum: into, snapshots, commits };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The cost of checkpointing: the case-study pipeline on a real LevelDB store, checkpoints every window,
 * every 10 windows, and off, for the fused and the mailbox pipeline. The three settings run interleaved
 * (off, 10, 1, off, 10, 1, …) so that a change of load on the machine hits all three alike.
 */
export const checkpointOverheadSection: Section = {
  title: 'checkpoint overhead: the case study on a LevelSnapshotStore (temp dir), virtual time',
  async run(o: BenchOptions): Promise<SectionReport> {
    const w: Workload = { windows: o.quick ? 4 : 128, readingsPerWindow: READINGS_PER_WINDOW };
    const warm: Workload = { windows: 4, readingsPerWindow: READINGS_PER_WINDOW };
    const readings = totalReadings(w);
    const reference = runHandLoop(w, o.keys).toString();
    const warmReference = runHandLoop(warm, o.keys).toString();
    const lines = [
      `  ${w.windows} windows × ${w.readingsPerWindow} readings = ${readings.toLocaleString('en')} readings per run, keys ${o.keys}; store: LevelSnapshotStore in ${tmpdir()}`,
      '  virtual time closes a window as soon as its 32,768 readings are through (a few ms), so "every window"',
      '  is a worst case: real windows (500 ms by default) carry far more work per checkpoint',
      '  throughput in readings/s, best run; overhead = 1 − throughput / throughput with checkpoints off:',
    ];
    const figures: Record<string, number> = {};
    for (const { locality, key, label } of LOCALITIES) {
      o.progress(`checkpoint overhead, ${label}: every ${EVERY.join(', ')} (0 = off) × ${o.runs} runs`);
      const check = (every: number, expected: string, r: CheckpointedRun) => {
        if (r.checksum.toString() !== expected) {
          throw new BenchError(
            `checkpoint overhead, ${label}, every ${every}: checksum ${r.checksum.toString()} differs from ${expected}`,
          );
        }
      };
      for (const every of EVERY)
        check(every, warmReference, await runCheckpointed(locality, warm, o.keys, every));
      const runs = new Map<number, CheckpointedRun[]>(EVERY.map((k) => [k, []]));
      for (let i = 0; i < o.runs; i++) {
        for (const every of EVERY) {
          const r = await runCheckpointed(locality, w, o.keys, every);
          check(every, reference, r);
          runs.get(every)!.push(r);
        }
      }
      const best = (every: number) => spread(runs.get(every)!.map((r) => r.ms));
      const offRate = perSecond(readings, best(0).min);
      lines.push(`  ${label}`);
      for (const every of EVERY) {
        const s = best(every);
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
