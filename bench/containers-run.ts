/**
 * One timed run of the containers bench, in a fresh process:
 * `node --expose-gc --import tsx bench/containers-run.ts JOB` prints a ContainersResult (`{ ms, cpuMs,
 * startMs, checksum, tuples, peakRssMb, restarts, pageFaults, steady }`) for a job `{ variant, workload,
 * warmupWindows }`:
 *
 * - `handLoop`: bench/machine-data-hand-loop.ts on this one thread (the baseline: one core);
 * - `p1` / `p2`: the case study (bench/containers-app.ts) with 1 or 2 partitions of its source and heavy
 *   stage, on 2 containers, a LevelDB store in a fresh temporary directory, the product's default
 *   checkpointing (every 10 windows), virtual time. Timed from the `started` event (both workers up, the
 *   application module loaded in each, actors deployed) to `run.done`; `startMs` is launch → started.
 *
 * `ms` and `cpuMs` (the process: every thread, the workers' and LevelDB's too) cover the same span;
 * `steady` the same from the end of window `warmupWindows` (the `window` status event: every actor of both
 * containers past it; the hand loop's own loop) to the end.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMachineDataHandLoop } from './machine-data-hand-loop.ts';
import { type MdWorkload, RecordChecksum } from './machine-data-workload.ts';
import { collectGarbage, type Span, spanFrom } from './measure.ts';

export type ContainersVariant = 'handLoop' | 'p1' | 'p2';

export interface ContainersJob {
  readonly variant: ContainersVariant;
  readonly workload: MdWorkload;
  /** Windows before the `steady` span starts (0: no `steady`). */
  readonly warmupWindows?: number;
}

export interface ContainersResult {
  readonly ms: number;
  readonly cpuMs: number;
  /** launch() → `started` (worker start-up and deploy), not in `ms`; 0 for the hand loop. */
  readonly startMs: number;
  readonly checksum: string;
  readonly tuples: number;
  readonly peakRssMb: number;
  /** Restarts during the run (a container replaced: killed, or a heartbeat missed on a loaded machine). */
  readonly restarts: number;
  /** Minor page faults of the process (every thread) over the timed span: fresh memory touched. */
  readonly pageFaults: number;
  /**
   * The span from the end of window `warmupWindows` (every actor past it; for the hand loop, its loop) to
   * the end: the steady state, without the first windows, in which each worker compiles the hot code.
   */
  readonly steady?: Span;
}

const APP = new URL('./containers-app.ts', import.meta.url);

async function runContainers(partitions: number, w: MdWorkload, warmup: number): Promise<ContainersResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-containers-'));
  const out = join(dir, 'out');
  await import('node:fs/promises').then((fs) => fs.mkdir(out));
  process.env.CONTAINERS_MD_PARTITIONS = String(partitions);
  process.env.CONTAINERS_MD_READINGS = String(w.readingsPerWindow);
  process.env.CONTAINERS_MD_APP_WINDOW = String(w.applicationWindowCount);
  process.env.CONTAINERS_MD_OUT = out;
  try {
    const { launch } = await import('../src/index.ts');
    const { default: app } = await import(APP.href);
    collectGarbage();
    const t0 = performance.now();
    let started = t0;
    let whole = spanFrom();
    let steady: ReturnType<typeof spanFrom> | undefined;
    const run = await launch(app, {
      containers: 2,
      module: APP,
      store: join(dir, 'store'),
      virtualTime: { callsPerWindow: 4096 },
      windows: w.windows,
      // No warm spares: each loads for ~1 s of CPU from 5 s after the start, inside the timed span of a
      // run that long (most runs on a loaded machine), and would be counted as the case study's work.
      spareWorkers: 0,
    });
    let restarts = 0;
    run.on('status', (e) => {
      if (e.type === 'restart') restarts++;
      // 'window': every actor of every container has ended it.
      if (e.type === 'window' && e.window === warmup) steady = spanFrom();
      if (e.type !== 'started') return;
      started = performance.now();
      whole = spanFrom();
    });
    await run.done;
    const span = whole.end();
    const steadySpan = steady?.end();
    const sum = new RecordChecksum();
    for (const f of readdirSync(out)) sum.merge(JSON.parse(readFileSync(join(out, f), 'utf8')));
    return {
      ...span,
      startMs: started - t0,
      checksum: sum.toString(),
      tuples: sum.tuples,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      restarts,
      ...(steadySpan ? { steady: steadySpan } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runHandLoop(w: MdWorkload, warmup: number): ContainersResult {
  collectGarbage();
  const whole = spanFrom();
  let steady: ReturnType<typeof spanFrom> | undefined;
  const sum = runMachineDataHandLoop(w, (window) => {
    if (window === warmup) steady = spanFrom();
  });
  const span = whole.end();
  const steadySpan = steady?.end();
  return {
    ...span,
    startMs: 0,
    checksum: sum.toString(),
    tuples: sum.tuples,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    restarts: 0,
    ...(steadySpan ? { steady: steadySpan } : {}),
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const job = JSON.parse(process.argv[2] ?? '') as ContainersJob;
  const r =
    job.variant === 'handLoop'
      ? runHandLoop(job.workload, job.warmupWindows ?? 0)
      : await runContainers(job.variant === 'p2' ? 2 : 1, job.workload, job.warmupWindows ?? 0);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
