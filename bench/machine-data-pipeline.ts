import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Alert,
  Average,
  type AverageRecord,
  DeviceReadings,
  GenerateDimensions,
  PrereqAverage,
  SumPartials,
} from '../actors/index.ts';
import { type Application, application, type Locality, launch, Operator } from '../src/index.ts';
import { startGcClock } from './gc-clock.ts';
import { MD_SEED, MD_TIME_ORIGIN_MS, type MdWorkload, RecordChecksum } from './machine-data-workload.ts';

/**
 * Where the streams of the case-study DAG run:
 * - `fused`: every stream 'thread' (one call chain, no queues);
 * - `caseStudy`: the seeds' localities — generate_dimension 'container', prereq_calculation 'thread', the
 *   rest the default (queued in this process);
 * - `mailbox`: every stream 'container' (each operator behind its own mailbox, batches of 1,024 tuples).
 */
export type MdLayout = 'fused' | 'caseStudy' | 'mailbox';

const LOCALITIES: Record<MdLayout, Record<'gen' | 'prereq' | 'inter' | 'out', Locality>> = {
  fused: { gen: 'thread', prereq: 'thread', inter: 'thread', out: 'thread' },
  caseStudy: { gen: 'container', prereq: 'thread', inter: 'any', out: 'any' },
  mailbox: { gen: 'container', prereq: 'container', inter: 'container', out: 'container' },
};

/**
 * Folds what reaches its one input into the RecordChecksum in its props, once per window: an exactly-once
 * sink of an aggregate (like a transaction that accumulates and commits at the window's end): the window's
 * terms go into a pending checksum on arrival, merged into `into` at endWindow unless that window was
 * applied already (a replay). One input each, so that a fused layout can fuse them too.
 */
abstract class ChecksumSink<T> extends Operator<{}, { into: RecordChecksum }> {
  readonly in = this.input<T>((t) => this.fold(this.pending, t));
  private pending = new RecordChecksum();
  private window = 0;
  private lastApplied = 0;

  protected abstract fold(into: RecordChecksum, t: T): void;

  override beginWindow(w: number): void {
    this.window = w;
    this.pending = new RecordChecksum();
  }

  override endWindow(): void {
    if (this.lastApplied < this.window) {
      this.props.into.merge(this.pending);
      this.lastApplied = this.window;
    }
  }
}

class RecordsSink extends ChecksumSink<AverageRecord> {
  protected fold(into: RecordChecksum, r: AverageRecord): void {
    into.addRecord(r);
  }
}

class AlertsSink extends ChecksumSink<Alert> {
  protected fold(into: RecordChecksum, a: Alert): void {
    into.addAlert(a);
  }
}

/** The case study's DAG on the real operators of actors/machine-data, into a checksum. */
export function machineDataBenchApp(layout: MdLayout, w: MdWorkload, into: RecordChecksum): Application {
  const l = LOCALITIES[layout];
  const appWindow = { applicationWindowCount: w.applicationWindowCount };
  return application(
    `bench-machine-data-${layout}`,
    (dag) => {
      const readings = dag.add('readings', DeviceReadings, {
        seed: MD_SEED,
        readingsPerWindow: w.readingsPerWindow,
        timeOriginMs: MD_TIME_ORIGIN_MS,
      });
      const dims = dag.add('dimensions', GenerateDimensions);
      const prereq = dag.add('prereq', PrereqAverage, undefined, { ...appWindow, unifier: SumPartials });
      const avg = dag.add('average', Average, {}, appWindow);
      const records = dag.add('records', RecordsSink, { into });
      const alerts = dag.add('alerts', AlertsSink, { into });
      dag.stream('generate_dimension', readings.out, dims.in).locality(l.gen).parallel();
      dag.stream('prereq_calculation', dims.out, prereq.in).locality(l.prereq);
      dag.stream('inter_avg', prereq.out, avg.in).locality(l.inter);
      dag.stream('avg_output', avg.out, records.in).locality(l.out);
      dag.stream('avg_alert_mail', avg.alerts, alerts.in).locality(l.out);
    },
    // One nominal millisecond per window: every window of the run is in the same minute (see the workload).
    { streamingWindowMs: 1 },
  );
}

export interface MdSluiceRun {
  readonly ms: number;
  readonly checksum: RecordChecksum;
  readonly checkpoints: number;
  readonly commits: number;
  /** Milliseconds the garbage collector held the main thread during the run. */
  readonly gcMs: number;
}

/**
 * How a run checkpoints: the product's default (every 10 windows, no replay buffers), `off`, or the
 * default with `replayFrom: 'buffers'` (the queued channels keep what they sent since the commit).
 */
export type MdCheckpointing = 'default' | 'off' | 'buffers';

/**
 * Launches the case study on a LevelDB store in a fresh temporary directory (removed after), on virtual
 * time, with the product's default checkpointing (every 10 windows, `sync: true` writes) unless told
 * otherwise. Timed from launch() to `await run.done` (opening the store, the final checkpoint and commit
 * included).
 */
export async function runMachineDataSluice(
  layout: MdLayout,
  w: MdWorkload,
  checkpointing: MdCheckpointing = 'default',
): Promise<MdSluiceRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-md-'));
  try {
    const into = new RecordChecksum();
    let checkpoints = 0;
    let commits = 0;
    const gc = startGcClock();
    const start = process.hrtime.bigint();
    const run = await launch(machineDataBenchApp(layout, w, into), {
      store: join(dir, 'store'),
      // A window holds all its readings: up to 4,096 emitTuples() calls of 1,024 (virtual time's default, 64).
      virtualTime: { callsPerWindow: 4096 },
      windows: w.windows,
      ...(checkpointing === 'off' ? { checkpointWindowCount: 0 } : {}),
      ...(checkpointing === 'buffers' ? { replayFrom: 'buffers' as const } : {}),
    });
    run.on('status', (e) => {
      if (e.type === 'checkpoint') checkpoints++;
      else if (e.type === 'commit') commits++;
    });
    await run.done;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return { ms, checksum: into, checkpoints, commits, gcMs: gc.stop() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
