/**
 * One timed run of the containers bench, in a fresh process:
 * `node --expose-gc --import tsx bench/containers-run.ts JOB` prints `{ ms, cpuMs, startMs, checksum,
 * tuples, peakRssMb }` for a job `{ variant, workload }`:
 *
 * - `handLoop`: bench/machine-data-hand-loop.ts on this one thread (the baseline: one core);
 * - `p1` / `p2`: the case study (bench/containers-app.ts) with 1 or 2 partitions of its source and heavy
 *   stage, on 2 containers, a LevelDB store in a fresh temporary directory, the product's default
 *   checkpointing (every 10 windows), virtual time. Timed from the `started` event (both workers up, the
 *   application module loaded in each, actors deployed) to `run.done`; `startMs` is launch → started.
 *
 * `ms` and `cpuMs` (the process: every thread, the workers' and LevelDB's too) cover the same span.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMachineDataHandLoop } from './machine-data-hand-loop.ts';
import { type MdWorkload, RecordChecksum } from './machine-data-workload.ts';
import { collectGarbage } from './measure.ts';

export type ContainersVariant = 'handLoop' | 'p1' | 'p2';

export interface ContainersJob {
  readonly variant: ContainersVariant;
  readonly workload: MdWorkload;
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
}

const APP = new URL('./containers-app.ts', import.meta.url);

async function runContainers(partitions: number, w: MdWorkload): Promise<ContainersResult> {
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
    let cpu0 = process.cpuUsage();
    let faults0 = process.resourceUsage().minorPageFault;
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
      if (e.type !== 'started') return;
      started = performance.now();
      cpu0 = process.cpuUsage();
      faults0 = process.resourceUsage().minorPageFault;
    });
    await run.done;
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const pageFaults = process.resourceUsage().minorPageFault - faults0;
    const sum = new RecordChecksum();
    for (const f of readdirSync(out)) sum.merge(JSON.parse(readFileSync(join(out, f), 'utf8')));
    return {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      startMs: started - t0,
      checksum: sum.toString(),
      tuples: sum.tuples,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      restarts,
      pageFaults,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runHandLoop(w: MdWorkload): ContainersResult {
  collectGarbage();
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  const sum = runMachineDataHandLoop(w);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    startMs: 0,
    checksum: sum.toString(),
    tuples: sum.tuples,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    restarts: 0,
    pageFaults: process.resourceUsage().minorPageFault - faults0,
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const job = JSON.parse(process.argv[2] ?? '') as ContainersJob;
  const r =
    job.variant === 'handLoop'
      ? runHandLoop(job.workload)
      : await runContainers(job.variant === 'p2' ? 2 : 1, job.workload);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
