/**
 * The containers bench's application: the case study (examples/machine-data's DAG and localities, on the
 * operators of actors/machine-data) into checksum sinks, loadable by path (containers import the module
 * themselves). Settings come from the environment, which workers inherit:
 *
 * - CONTAINERS_MD_PARTITIONS: partitions of the source and so of its parallel heavy stage
 *   (GenerateDimensions → PrereqAverage, fused), merged by SumPartials unifiers; default 1;
 * - CONTAINERS_MD_READINGS: readings per streaming window of the whole application (each partition emits
 *   its share: partition p of P emits the readings n·P + p, so every P gives the same readings);
 * - CONTAINERS_MD_APP_WINDOW: streaming windows per application window (default 10);
 * - CONTAINERS_MD_AVERAGE_PARTITIONS: partitions of Average and its sinks (default: as many as the
 *   source), fed by the partial sums keyed by dimension key (examples/machine-data's `--average-partitions`),
 *   so the end of each application window is split between the containers;
 * - CONTAINERS_MD_SINKS_FUSED=1: the sinks thread-local to Average (default: the example's 'any');
 * - CONTAINERS_MD_OUT: a directory; each sink writes its checksum there at teardown (`<actor>.<pid>.json`).
 */
import { writeFileSync } from 'node:fs';
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
import { application, Operator, type OperatorContext } from '../src/index.ts';
import { MD_SEED, MD_TIME_ORIGIN_MS, RecordChecksum } from './machine-data-workload.ts';

const partitions = Number(process.env.CONTAINERS_MD_PARTITIONS ?? '1');
const readings = Number(process.env.CONTAINERS_MD_READINGS ?? '65536');
const applicationWindowCount = Number(process.env.CONTAINERS_MD_APP_WINDOW ?? '10');
const averagePartitions = Number(process.env.CONTAINERS_MD_AVERAGE_PARTITIONS ?? String(partitions));
const partitionBy = process.env.CONTAINERS_MD_PARTITION_BY === 'sequence' ? 'sequence' : 'device';
const sinkLocality = process.env.CONTAINERS_MD_SINKS_FUSED === '1' ? 'thread' : 'any';

/**
 * Folds its input into a checksum once per window (exactly once: a replayed window is not applied again)
 * and writes the checksum to CONTAINERS_MD_OUT at teardown, since it may run in another thread. The
 * checksum is the operator's state, so a container replaced mid-run (a kill, a missed heartbeat) restores
 * it with the rest and the file still holds every window once.
 */
abstract class FileChecksumSink<T> extends Operator<
  { value: number; records: number; alerts: number; tuples: number; lastApplied: number },
  { name: string }
> {
  readonly in = this.input<T>((t) => this.fold(this.pending, t));
  private pending = new RecordChecksum();
  private window = 0;
  private actorId = '';

  override setup(ctx: OperatorContext): void {
    this.actorId = ctx.actorId;
  }

  protected abstract fold(into: RecordChecksum, t: T): void;

  override initialState() {
    return { value: 0, records: 0, alerts: 0, tuples: 0, lastApplied: 0 };
  }

  override beginWindow(w: number): void {
    this.window = w;
    this.pending = new RecordChecksum();
  }

  override endWindow(): void {
    const s = this.state;
    if (s.lastApplied >= this.window) return;
    const into = Object.assign(new RecordChecksum(), {
      value: s.value,
      records: s.records,
      alerts: s.alerts,
      tuples: s.tuples,
    });
    into.merge(this.pending);
    Object.assign(s, { value: into.value, records: into.records, alerts: into.alerts, tuples: into.tuples });
    s.lastApplied = this.window;
  }

  override teardown(): void {
    const dir = process.env.CONTAINERS_MD_OUT;
    const { value, records, alerts, tuples } = this.state;
    if (dir)
      writeFileSync(
        join(dir, `${this.actorId}.${process.pid}.json`),
        JSON.stringify({ value, records, alerts, tuples }),
      );
  }
}

class RecordsSink extends FileChecksumSink<AverageRecord> {
  protected fold(into: RecordChecksum, r: AverageRecord): void {
    into.addRecord(r);
  }
}

class AlertsSink extends FileChecksumSink<Alert> {
  protected fold(into: RecordChecksum, a: Alert): void {
    into.addAlert(a);
  }
}

export default application(
  `bench-containers-md-${partitions}`,
  (dag) => {
    const app = { applicationWindowCount };
    const source = dag.add(
      'readings',
      DeviceReadings,
      {
        seed: MD_SEED,
        readingsPerWindow: readings / partitions,
        timeOriginMs: MD_TIME_ORIGIN_MS,
        partitionBy,
      },
      { partitions },
    );
    const dims = dag.add('dimensions', GenerateDimensions);
    const prereq = dag.add('prereq', PrereqAverage, undefined, { ...app, unifier: SumPartials });
    const avg = dag.add('average', Average, {}, { ...app, partitions: averagePartitions });
    const records = dag.add('records', RecordsSink, { name: 'records' });
    const alerts = dag.add('alerts', AlertsSink, { name: 'alerts' });
    // examples/machine-data's localities: the heavy stage stays with its partition of the source.
    dag.stream('generate_dimension', source.out, dims.in).locality('container').parallel();
    dag.stream('prereq_calculation', dims.out, prereq.in).locality('thread');
    // Keyed by dimension key: each Average partition sums and ends the application window of its keys.
    dag.stream('inter_avg', prereq.out, avg.in).keyBy((p) => p.key);
    dag.stream('avg_output', avg.out, records.in).locality(sinkLocality).parallel();
    dag.stream('avg_alert_mail', avg.alerts, alerts.in).locality(sinkLocality).parallel();
  },
  // One nominal millisecond per window: every window of the run is in the same minute (see the workload).
  { streamingWindowMs: 1 },
);
