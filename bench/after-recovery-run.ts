import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Application, launch, MemorySnapshotStore, RestartStrategy, type Run } from '../src/index.ts';
import { AverageChecksum, READINGS_PER_WINDOW } from './case-study-workload.ts';
import { collectGarbage } from './measure.ts';
import { armFault, caseStudyApp, injectedFault } from './sluice-pipeline.ts';

export interface AfterRecoveryJob {
  /** Windows in the run; the measured ones are `from` … `windows`. */
  readonly windows: number;
  readonly from: number;
  /** The window in which GenerateDimensions throws once (halfway through); 0: no fault. */
  readonly failWindow: number;
  readonly checkpointEvery: number;
  /**
   * 0 or absent: in this thread. N: on N containers (bench/after-recovery-app.ts; the chain fills container
   * 0, so the failure replaces that container alone: a partial restart, on a new worker).
   */
  readonly containers?: number;
}

export interface AfterRecoveryRun {
  /** From the end of window `from` − 1 to the end of the last window. */
  readonly ms: number;
  /** CPU time of the process over the same windows (less sensitive to other load than `ms`). */
  readonly cpuMs: number;
  /**
   * Garbage collections over the same windows: ~0 while the chain is inlined whole (escape analysis
   * removes the tuples), dozens when it is not. Does not depend on the machine's load.
   */
  readonly gcs: number;
  readonly checksum: string;
  readonly recoveries: number;
}

/**
 * The fused case study (keys typed, FailingGenerateDimensions armed or not, so both runs run the same
 * code) on a memory store, checkpoints every `checkpointEvery` windows, restarts without backoff. Times
 * the windows `from` … `windows`, well after the recovery's replay, by their `window` events.
 */
export async function runAfterRecovery(job: AfterRecoveryJob): Promise<AfterRecoveryRun> {
  if (job.containers) return onContainers(job, job.containers);
  const into = new AverageChecksum();
  const workload = { windows: job.windows, readingsPerWindow: READINGS_PER_WINDOW };
  if (job.failWindow > 0) armFault(job.failWindow, READINGS_PER_WINDOW / 2);
  const thrown = injectedFault.thrown;
  collectGarbage();
  const run = await launch(
    caseStudyApp({ locality: 'thread', workload, keys: 'typed', into, failing: true }),
    { ...runOptions(job), store: new MemorySnapshotStore() },
  );
  const t = await timeWindows(run, job);
  if (job.failWindow > 0 && injectedFault.thrown !== thrown + 1)
    throw new Error('after-recovery: the fault did not strike once');
  return { ...t, checksum: into.toString() };
}

function runOptions(job: AfterRecoveryJob) {
  return {
    virtualTime: true,
    windows: job.windows,
    checkpointWindowCount: job.checkpointEvery,
    restart: RestartStrategy.restart().withBackoff(0, 0),
  };
}

const APP = fileURLToPath(new URL('./after-recovery-app.ts', import.meta.url));

/** The same on containers: the module loaded by path, the fault once per run, the checksum from a file. */
async function onContainers(job: AfterRecoveryJob, containers: number): Promise<AfterRecoveryRun> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-after-recovery-'));
  const out = join(dir, 'checksum.json');
  const flag = join(dir, 'fault-struck');
  Object.assign(process.env, {
    AFTER_RECOVERY_FAIL_WINDOW: String(job.failWindow),
    AFTER_RECOVERY_FLAG: flag,
    AFTER_RECOVERY_OUT: out,
  });
  try {
    const { default: app } = (await import(pathToFileURL(APP).href)) as { default: Application };
    collectGarbage();
    const run = await launch(app, {
      ...runOptions(job),
      store: new MemorySnapshotStore(),
      containers,
      module: APP,
    });
    const t = await timeWindows(run, job);
    if (job.failWindow > 0 && !existsSync(flag)) throw new Error('after-recovery: the fault did not strike');
    const { checksum, lastApplied } = JSON.parse(readFileSync(out, 'utf8')) as {
      checksum: string;
      lastApplied: number;
    };
    if (lastApplied !== job.windows) throw new Error(`after-recovery: Average applied up to ${lastApplied}`);
    return { ...t, checksum };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Times the windows `from` … `windows` of a run by its `window` events, until it is done: wall time, the
 * process's CPU time (every thread: the containers' too), and this thread's garbage collections.
 */
async function timeWindows(run: Run, job: AfterRecoveryJob): Promise<Omit<AfterRecoveryRun, 'checksum'>> {
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const ended = new Map<number, { ms: number; cpuMs: number; gcs: number }>();
  let recoveries = 0;
  run.on('status', (e) => {
    if (e.type === 'window') {
      const cpu = process.cpuUsage();
      ended.set(e.window, { ms: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000, gcs });
    } else if (e.type === 'recovered') recoveries++;
  });
  await run.done;
  // GC entries are delivered asynchronously: let those of the timed windows arrive.
  await new Promise((r) => setTimeout(r, 10));
  observer.disconnect();
  const start = ended.get(job.from - 1);
  const end = ended.get(job.windows);
  if (start === undefined || end === undefined) throw new Error('after-recovery: window events missing');
  return { ms: end.ms - start.ms, cpuMs: end.cpuMs - start.cpuMs, gcs: end.gcs - start.gcs, recoveries };
}
