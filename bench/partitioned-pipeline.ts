import { application, launch, MemorySnapshotStore } from '../src/index.ts';
import { AverageChecksum, type Reading, type Workload } from './case-study-workload.ts';
import { startGcClock } from './gc-clock.ts';
import { collectGarbage } from './measure.ts';
import { AverageTyped, GenerateDimensions, InputReceiver, PrereqAverageTyped } from './sluice-pipeline.ts';

/** One run of the partitioned pipeline: wall time, checksum, GC time and the process's peak RSS. */
export interface PartitionedRun {
  readonly ms: number;
  readonly checksum: AverageChecksum;
  readonly gcMs: number;
  /** CPU time of the process during the run (less sensitive to other load than `ms`). */
  readonly cpuMs: number;
}

/**
 * The case study through mailboxes with its heavy stage (GenerateDimensions, four dimension tuples per
 * reading) at `partitions` partitions: InputReceiver →keyed→ GenerateDimensions ×n → (the default
 * pass-through unifier, when n > 1) → PrereqAverage → Average. Keys typed, memory store, virtual time,
 * checkpoints off, so what differs between n = 1 and n = 2 is the partitions and the merge behind them.
 */
export async function runPartitioned(partitions: number, w: Workload): Promise<PartitionedRun> {
  const into = new AverageChecksum();
  const app = application(`bench-partitioned-${partitions}`, (dag) => {
    const recv = dag.add('InputReceiver', InputReceiver, {
      readingsPerWindow: w.readingsPerWindow,
      batch: 1024,
    });
    const dims = dag.add('GenerateDimensions', GenerateDimensions, undefined, { partitions });
    const prereq = dag.add('PrereqAverage', PrereqAverageTyped);
    const avg = dag.add('Average', AverageTyped, { into });
    dag
      .stream('generate_dimension', recv.out, dims.in)
      .locality('container')
      .keyBy((r: Reading) => r.customer * 8 + r.product);
    dag
      .stream('prereq_calculation', dims.out, prereq.in)
      .locality('container')
      .keyBy((t) => t.key);
    dag.stream('inter_avg', prereq.out, avg.in).locality('container');
  });
  collectGarbage();
  const gc = startGcClock();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const run = await launch(app, {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows: w.windows,
    checkpointWindowCount: 0,
  });
  await run.done;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { ms, checksum: into, gcMs: gc.stop(), cpuMs: (used.user + used.system) / 1000 };
}
