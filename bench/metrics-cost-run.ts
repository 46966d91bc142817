/**
 * One run of the metrics-cost section, in a fresh process (`node --expose-gc --import tsx
 * bench/metrics-cost-run.ts JSON`): the case study with metrics on or off, optionally with the web console
 * listening (no page connected). Prints `{ ms, cpuMs, checksum }`.
 */
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
}

export async function runMetricsCost(job: MetricsCostJob): Promise<MetricsCostResult> {
  const into = new AverageChecksum();
  const app = caseStudyApp({ locality: job.locality, workload: job.workload, keys: 'typed', into });
  collectGarbage();
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
  return { ms, cpuMs: (used.user + used.system) / 1000, checksum: into.toString() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runMetricsCost(JSON.parse(process.argv[2] ?? '') as MetricsCostJob);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
