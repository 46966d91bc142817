import { fileURLToPath } from 'node:url';
import { runInChild } from './child-process.ts';
import { runMachineDataHandLoop } from './machine-data-hand-loop.ts';
import { type MdCheckpointing, type MdLayout, runMachineDataSluice } from './machine-data-pipeline.ts';
import { runMachineDataStream } from './machine-data-stream.ts';
import type { MdWorkload, RecordChecksum } from './machine-data-workload.ts';
import { collectGarbage } from './measure.ts';

export type MdVariant = 'handLoop' | MdLayout | 'streamBatched' | 'streamObjects';

export interface MdJob {
  readonly variant: MdVariant;
  readonly workload: MdWorkload;
  /** Sluice variants only; default: the product's default. */
  readonly checkpointing?: MdCheckpointing;
}

export interface MdJobResult {
  /** Wall time of the measured part. */
  readonly ms: number;
  /** CPU time of the process over the same part, all threads (LevelDB's and the GC's helpers too). */
  readonly cpuMs: number;
  /** RecordChecksum.toString(): the same in every variant or a result is wrong. */
  readonly checksum: string;
  /** Dimension tuples behind the averages (64 per reading). */
  readonly tuples: number;
  readonly checkpoints: number;
  readonly peakRssMb: number;
  /** Milliseconds the garbage collector held the main thread (sluice variants; 0 for the others). */
  readonly gcMs: number;
}

/** Runs one variant in this process and times it (after a garbage collection). */
export async function runMdJob(job: MdJob): Promise<MdJobResult> {
  collectGarbage();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let checkpoints = 0;
  let gcMs = 0;
  let checksum: RecordChecksum;
  const v = job.variant;
  if (v === 'handLoop') checksum = runMachineDataHandLoop(job.workload);
  else if (v === 'streamBatched') checksum = await runMachineDataStream(job.workload, 'batch');
  else if (v === 'streamObjects') checksum = await runMachineDataStream(job.workload, 'object');
  else {
    const r = await runMachineDataSluice(v, job.workload, job.checkpointing);
    checksum = r.checksum;
    checkpoints = r.checkpoints;
    gcMs = r.gcMs;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return {
    ms,
    cpuMs: (used.user + used.system) / 1000,
    checksum: checksum.toString(),
    tuples: checksum.tuples,
    checkpoints,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    gcMs,
  };
}

const CHILD = fileURLToPath(new URL('./machine-data-child.ts', import.meta.url));

/** Runs one variant in a fresh node process (same flags as this one); the child times itself. */
export function runMdIsolated(job: MdJob): Promise<MdJobResult> {
  return runInChild<MdJobResult>(CHILD, job, job.variant, true);
}
