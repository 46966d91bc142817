import { fileURLToPath } from 'node:url';
import type { Locality } from '../src/index.ts';
import { type AfterRecoveryJob, runAfterRecovery } from './after-recovery-run.ts';
import type { KeyEncoding, Workload } from './case-study-workload.ts';
import { runInChild } from './child-process.ts';
import { runHandLoop } from './hand-loop.ts';
import { runHop } from './hop-pipeline.ts';
import { type Timed, timeOnce } from './measure.ts';
import { runPartitioned } from './partitioned-pipeline.ts';
import { runSluice, runSluiceOnDisk } from './sluice-pipeline.ts';
import { runStreamPipeline } from './stream-pipeline.ts';

export type CaseStudyVariant = 'handLoop' | 'fused' | 'mailbox' | 'streamPipeline';

/** One measured run, described as data so that it can run in a child process. */
export type Job =
  | { kind: 'case-study'; variant: CaseStudyVariant; keys: KeyEncoding; workload: Workload }
  | {
      kind: 'on-disk';
      locality: Locality;
      keys: KeyEncoding;
      workload: Workload;
      every: number;
      replayFrom?: 'buffers' | 'sources';
    }
  | { kind: 'hop'; tuples: 'numbers' | 'objects'; windows: number }
  | { kind: 'partitioned'; partitions: number; workload: Workload }
  | ({ kind: 'after-recovery' } & AfterRecoveryJob);

export interface JobResult extends Timed {
  /** `value:averages:tuples` of the AverageChecksum (empty for a hop). */
  readonly checksum: string;
  /** Dimension tuples behind the averages (a hop: tuples the sink saw). */
  readonly tuples: number;
  readonly snapshots: number;
  readonly commits: number;
  /** Milliseconds of the run in which the garbage collector held the main thread (0 if not measured). */
  readonly gcMs?: number;
  /** CPU time the process used during the run, all threads (less sensitive to other load than `ms`). */
  readonly cpuMs?: number;
  /** Garbage collections during the measured part (after-recovery runs). */
  readonly gcCount?: number;
  /** The process's peak resident set size, in MB (run in a fresh process, it is the run's). */
  readonly peakRssMb?: number;
}

/** Runs a job in this process and times it. */
export async function runJob(job: Job): Promise<JobResult> {
  if (job.kind === 'on-disk') {
    const r = await runSluiceOnDisk(job.locality, job.workload, job.keys, job.every, job.replayFrom);
    return {
      ms: r.ms,
      checksum: r.checksum.toString(),
      tuples: r.checksum.tuples,
      snapshots: r.snapshots,
      commits: r.commits,
      gcMs: r.gcMs,
      cpuMs: r.cpuMs,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  }
  if (job.kind === 'after-recovery') {
    const r = await runAfterRecovery(job);
    const { ms, cpuMs, gcs, checksum, recoveries } = r;
    return { ms, cpuMs, gcCount: gcs, checksum, tuples: recoveries, snapshots: 0, commits: 0 };
  }
  if (job.kind === 'partitioned') {
    const r = await runPartitioned(job.partitions, job.workload);
    return {
      ms: r.ms,
      checksum: r.checksum.toString(),
      tuples: r.checksum.tuples,
      snapshots: 0,
      commits: 0,
      gcMs: r.gcMs,
      cpuMs: r.cpuMs,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  }
  if (job.kind === 'hop') {
    const t = await timeOnce(() => runHop(job.tuples, job.windows));
    return { ms: t.ms, checksum: '', tuples: t.result, snapshots: 0, commits: 0 };
  }
  const { variant, workload: w, keys } = job;
  const t = await timeOnce(() => {
    if (variant === 'handLoop') return runHandLoop(w, keys);
    if (variant === 'fused') return runSluice('thread', w, keys);
    if (variant === 'mailbox') return runSluice('container', w, keys);
    return runStreamPipeline(w, keys);
  });
  return { ms: t.ms, checksum: t.result.toString(), tuples: t.result.tuples, snapshots: 0, commits: 0 };
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

/**
 * Runs a job in a fresh node process (the same flags as this one: --expose-gc, --import tsx), so that it
 * runs on a JIT that has seen no other application (see "One application per process" in the README).
 * The child times the job itself: process start and module loading are not counted.
 */
export function runIsolated(job: Job): Promise<JobResult> {
  // A run on containers uses the machine's cores: never pinned.
  const oneThread = !(job.kind === 'after-recovery' && (job.containers ?? 0) > 0);
  return runInChild<JobResult>(CHILD, job, `bench child for ${JSON.stringify(job)}`, oneThread);
}
