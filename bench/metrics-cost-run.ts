/**
 * One run of the metrics-cost section, in a fresh process (`node --expose-gc --import tsx
 * bench/metrics-cost-run.ts JSON`): the case study with metrics on or off, optionally with the web console
 * listening (no page connected). Prints `{ ms, cpuMs, checksum }`.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serveConsole } from '../src/console/server.ts';
import { type Locality, launch, MemorySnapshotStore } from '../src/index.ts';
import { AverageChecksum, type Workload } from './case-study-workload.ts';
import { collectGarbage } from './measure.ts';
import { caseStudyApp } from './sluice-pipeline.ts';

export interface MetricsCostJob {
  locality: Locality;
  metrics: boolean;
  console: boolean;
  workload: Workload;
}

export interface MetricsCostResult {
  ms: number;
  cpuMs: number;
  checksum: string;
  /**
   * Minor GCs during the run. The fused chain allocates no tuples only while TurboFan inlines it whole
   * into the source's emitTuples, which happens in some processes and not others, metrics on or off
   * (256 windows: ~21 scavenges inlined, ~103 not): this says which kind of run a figure comes from.
   */
  scavenges: number;
}

/** A scavenge (perf_hooks' NODE_PERFORMANCE_GC_MINOR). */
function minorGc(e: PerformanceEntry): boolean {
  const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR;
}

export async function runMetricsCost(job: MetricsCostJob): Promise<MetricsCostResult> {
  const into = new AverageChecksum();
  const app = caseStudyApp({ locality: job.locality, workload: job.workload, keys: 'typed', into });
  collectGarbage();
  let scavenges = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (minorGc(e)) scavenges++;
  });
  gc.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const run = await launch(app, {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows: job.workload.windows,
    checkpointWindowCount: 0,
    metrics: job.metrics,
  });
  const server = job.console ? await serveConsole('127.0.0.1:0', () => run) : undefined;
  await run.done;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  await server?.close();
  // GC entries are delivered asynchronously: the last ones arrive after a turn of the event loop.
  await new Promise((r) => setTimeout(r, 20));
  gc.disconnect();
  return { ms, cpuMs: (used.user + used.system) / 1000, checksum: into.toString(), scavenges };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runMetricsCost(JSON.parse(process.argv[2] ?? '') as MetricsCostJob);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
