import {
  type Application,
  application,
  InputOperator,
  type Locality,
  launch,
  MemorySnapshotStore,
  Operator,
} from '../src/index.ts';
import {
  AverageChecksum,
  addTo,
  DIMENSIONS,
  type Dimensioned,
  dimensionKey,
  type PartialSum,
  type Reading,
  readingAt,
  type Sums,
  type Workload,
} from './case-study-workload.ts';

export interface ReceiverProps {
  readingsPerWindow: number;
  /** Most readings per emitTuples() call. */
  batch: number;
}

/** InputReceiver: `readingsPerWindow` readings per window, from a counter that is its state. */
export class InputReceiver extends InputOperator<{ next: number }, ReceiverProps> {
  readonly out = this.output<Reading>();
  private left = 0;

  override initialState() {
    return { next: 0 };
  }

  override beginWindow(): void {
    this.left = this.props.readingsPerWindow;
  }

  emitTuples(): void {
    const n = Math.min(this.left, this.props.batch);
    const s = this.state;
    for (let i = 0; i < n; i++) this.out.emit(readingAt(s.next++));
    this.left -= n;
  }
}

/** GenerateDimensions: one keyed tuple per dimension combination of a reading. */
export class GenerateDimensions extends Operator {
  readonly in = this.input<Reading>((r) => {
    const out = this.out;
    for (let d = 0; d < DIMENSIONS; d++)
      out.emit({ key: dimensionKey(r, d), cpu: r.cpu, ram: r.ram, hdd: r.hdd });
  });
  readonly out = this.output<Dimensioned>();
}

/** PrereqAverage: sum and count per key within the window, emitted at endWindow and cleared. */
export class PrereqAverage extends Operator<{ sums: Map<number, Sums> }> {
  readonly in = this.input<Dimensioned>((t) => addTo(this.state.sums, t.key, t.cpu, t.ram, t.hdd, 1));
  readonly out = this.output<PartialSum>();

  override initialState() {
    return { sums: new Map<number, Sums>() };
  }

  override endWindow(): void {
    const sums = this.state.sums;
    for (const [key, s] of sums) this.out.emit({ key, cpu: s.cpu, ram: s.ram, hdd: s.hdd, count: s.count });
    sums.clear();
  }
}

/**
 * Average: merges the partial sums per key and, at endWindow, folds each key's average into the checksum
 * given in its props (an output outside the runtime, fenced by window id like an exactly-once sink).
 */
export class Average extends Operator<{ totals: Map<number, Sums> }, { into: AverageChecksum }> {
  readonly in = this.input<PartialSum>((p) => addTo(this.state.totals, p.key, p.cpu, p.ram, p.hdd, p.count));
  private window = 0;

  override initialState() {
    return { totals: new Map<number, Sums>() };
  }

  override beginWindow(w: number): void {
    this.window = w;
  }

  override endWindow(): void {
    const into = this.props.into;
    if (this.window <= into.lastWindow) {
      this.state.totals.clear();
      return;
    }
    into.addWindow(this.state.totals);
    into.lastWindow = this.window;
  }
}

/** The case-study DAG with every stream at the given locality; one partition per operator. */
export function caseStudyApp(
  locality: Locality,
  w: Workload,
  into: AverageChecksum,
  batch = 1024,
): Application {
  return application(`bench-case-study-${locality}`, (dag) => {
    const recv = dag.add('InputReceiver', InputReceiver, { readingsPerWindow: w.readingsPerWindow, batch });
    const dims = dag.add('GenerateDimensions', GenerateDimensions);
    const prereq = dag.add('PrereqAverage', PrereqAverage);
    const avg = dag.add('Average', Average, { into });
    dag.stream('generate_dimension', recv.out, dims.in).locality(locality);
    dag
      .stream('prereq_calculation', dims.out, prereq.in)
      .locality(locality)
      .keyBy((t) => t.key);
    dag.stream('inter_avg', prereq.out, avg.in).locality(locality);
  });
}

/** Launches the app on a memory store with virtual time and no checkpoints; resolves with its checksum. */
export async function runSluice(locality: Locality, w: Workload): Promise<AverageChecksum> {
  const into = new AverageChecksum();
  const run = await launch(caseStudyApp(locality, w, into), {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows: w.windows,
    checkpointWindowCount: 0,
  });
  await run.done;
  return into;
}
