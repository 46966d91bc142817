import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  addToTyped,
  DIMENSIONS,
  type Dimensioned,
  dimensionKey,
  type KeyEncoding,
  newTypedSums,
  type PartialSum,
  type Reading,
  readingAt,
  resetTyped,
  type Sums,
  type TypedSums,
  type Workload,
} from './case-study-workload.ts';
import { startGcClock } from './gc-clock.ts';
import { collectGarbage } from './measure.ts';

export interface ReceiverProps {
  readingsPerWindow: number;
  /** Most readings per emitTuples() call. */
  batch: number;
}

/**
 * InputReceiver: `readingsPerWindow` readings per window, from a counter that is its state. What it still
 * owes is state too: a window closed before its burst ended (on the real clock, under load) carries the
 * rest into the next window instead of losing it. (A transient quota reset in beginWindow lost readings
 * whenever a real-time window was cut mid-burst: the recovery section's real-time runs then reported a
 * checksum mismatch under load.)
 */
export class InputReceiver extends InputOperator<{ next: number; owed: number }, ReceiverProps> {
  readonly out = this.output<Reading>();

  override initialState() {
    return { next: 0, owed: 0 };
  }

  override beginWindow(): void {
    this.state.owed += this.props.readingsPerWindow;
  }

  emitTuples(): void {
    const s = this.state;
    const n = Math.min(s.owed, this.props.batch);
    for (let i = 0; i < n; i++) this.out.emit(readingAt(s.next++));
    s.owed -= n;
  }
}

/** GenerateDimensions: one keyed tuple (an object) per dimension combination of a reading. */
export class GenerateDimensions extends Operator {
  readonly in = this.input<Reading>((r) => {
    const out = this.out;
    for (let d = 0; d < DIMENSIONS; d++)
      out.emit({ key: dimensionKey(r, d), cpu: r.cpu, ram: r.ram, hdd: r.hdd });
  });
  readonly out = this.output<Dimensioned>();
}

/**
 * The fault of the recovery bench: a module-level flag (it outlives the operator instance that throws,
 * so the restored instance does not throw again). Armed, FailingGenerateDimensions throws once, at the
 * reading number `afterReadings` of window `window`, leaving that window half-processed downstream.
 */
export const injectedFault = {
  window: 0,
  afterReadings: 0,
  thrown: 0,
  /** Asked when the fault is due: false if it already struck elsewhere (another worker of the run). */
  claim: (): boolean => true,
};

export function armFault(window: number, afterReadings: number): void {
  injectedFault.window = window;
  injectedFault.afterReadings = afterReadings;
}

/** GenerateDimensions with the fault check (a separate class, so the throughput runs carry no check). */
export class FailingGenerateDimensions extends Operator {
  private window = 0;
  private seen = 0;
  readonly in = this.input<Reading>((r) => {
    if (
      this.window === injectedFault.window &&
      ++this.seen === injectedFault.afterReadings &&
      injectedFault.claim()
    ) {
      injectedFault.window = 0;
      injectedFault.thrown++;
      throw new Error(`injected fault in window ${this.window}`);
    }
    const out = this.out;
    for (let d = 0; d < DIMENSIONS; d++)
      out.emit({ key: dimensionKey(r, d), cpu: r.cpu, ram: r.ram, hdd: r.hdd });
  });
  readonly out = this.output<Dimensioned>();

  override beginWindow(w: number): void {
    this.window = w;
    this.seen = 0;
  }
}

/** PrereqAverage (`map`): sum and count per key within the window, emitted at endWindow and cleared. */
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

/** PrereqAverage (`typed`): the same, on typed columns; emits the touched keys and resets them. */
export class PrereqAverageTyped extends Operator<{ sums: TypedSums }> {
  readonly in = this.input<Dimensioned>((t) => addToTyped(this.state.sums, t.key, t.cpu, t.ram, t.hdd, 1));
  readonly out = this.output<PartialSum>();

  override initialState() {
    return { sums: newTypedSums() };
  }

  override endWindow(): void {
    const s = this.state.sums;
    const { touched, cpu, ram, hdd, count } = s;
    for (let i = 0; i < s.touchedCount; i++) {
      const key = touched[i]!;
      this.out.emit({ key, cpu: cpu[key]!, ram: ram[key]!, hdd: hdd[key]!, count: count[key]! });
    }
    resetTyped(s);
  }
}

/**
 * Average (`map`): merges the partial sums per key and, at endWindow, folds each key's average into the
 * checksum given in its props (an output outside the runtime, fenced by window id like an exactly-once
 * sink).
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

/** Average (`typed`): the same, on typed columns. */
export class AverageTyped extends Operator<{ totals: TypedSums }, { into: AverageChecksum }> {
  readonly in = this.input<PartialSum>((p) =>
    addToTyped(this.state.totals, p.key, p.cpu, p.ram, p.hdd, p.count),
  );
  private window = 0;

  override initialState() {
    return { totals: newTypedSums() };
  }

  override beginWindow(w: number): void {
    this.window = w;
  }

  override endWindow(): void {
    const into = this.props.into;
    if (this.window <= into.lastWindow) {
      resetTyped(this.state.totals);
      return;
    }
    into.addWindowTyped(this.state.totals);
    into.lastWindow = this.window;
  }
}

export interface CaseStudyOptions {
  readonly locality: Locality;
  readonly workload: Workload;
  readonly keys: KeyEncoding;
  /** Where Average folds the averages. */
  readonly into: AverageChecksum;
  /** Readings per emitTuples() call (default 1024). */
  readonly batch?: number;
  /** Use FailingGenerateDimensions (the recovery bench). */
  readonly failing?: boolean;
}

/** The case-study DAG with every stream at the given locality; one partition per operator. */
export function caseStudyApp(o: CaseStudyOptions): Application {
  const typed = o.keys === 'typed';
  return application(`bench-case-study-${o.locality}-${o.keys}`, (dag) => {
    const recv = dag.add('InputReceiver', InputReceiver, {
      readingsPerWindow: o.workload.readingsPerWindow,
      batch: o.batch ?? 1024,
    });
    const dims = dag.add('GenerateDimensions', o.failing ? FailingGenerateDimensions : GenerateDimensions);
    const prereq = typed
      ? dag.add('PrereqAverage', PrereqAverageTyped)
      : dag.add('PrereqAverage', PrereqAverage);
    const avg = typed
      ? dag.add('Average', AverageTyped, { into: o.into })
      : dag.add('Average', Average, { into: o.into });
    dag.stream('generate_dimension', recv.out, dims.in).locality(o.locality);
    dag
      .stream('prereq_calculation', dims.out, prereq.in)
      .locality(o.locality)
      .keyBy((t) => t.key);
    dag.stream('inter_avg', prereq.out, avg.in).locality(o.locality);
  });
}

/** Launches the app on a memory store with virtual time and no checkpoints; resolves with its checksum. */
export async function runSluice(
  locality: Locality,
  w: Workload,
  keys: KeyEncoding,
): Promise<AverageChecksum> {
  const into = new AverageChecksum();
  const run = await launch(caseStudyApp({ locality, workload: w, keys, into }), {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows: w.windows,
    checkpointWindowCount: 0,
  });
  await run.done;
  return into;
}

/** A run on a LevelSnapshotStore: its checksum, wall time, and the checkpoints and commits it made. */
export interface DiskRun {
  readonly ms: number;
  readonly checksum: AverageChecksum;
  readonly snapshots: number;
  readonly commits: number;
  /** Of `ms`, the time the garbage collector held the main thread. */
  readonly gcMs: number;
  /** CPU time of the process during the run (all its threads: LevelDB's and the GC's helpers too). */
  readonly cpuMs: number;
}

/**
 * Launches the app on a LevelSnapshotStore in a fresh temporary directory (removed after) with virtual
 * time and checkpoints every `every` windows (0: off). Timed from launch() to `await run.done` (opening
 * the store, the final checkpoint and commit included; creating and removing the directory not).
 */
export async function runSluiceOnDisk(
  locality: Locality,
  workload: Workload,
  keys: KeyEncoding,
  every: number,
  replayFrom: 'buffers' | 'sources' = 'buffers',
): Promise<DiskRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  try {
    const into = new AverageChecksum();
    let snapshots = 0;
    let commits = 0;
    collectGarbage();
    const gc = startGcClock();
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const run = await launch(caseStudyApp({ locality, workload, keys, into }), {
      store: dir,
      virtualTime: true,
      windows: workload.windows,
      checkpointWindowCount: every,
      replayFrom,
    });
    run.on('status', (e) => {
      if (e.type === 'checkpoint') snapshots++;
      else if (e.type === 'commit') commits++;
    });
    await run.done;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const used = process.cpuUsage(cpu);
    return {
      ms,
      checksum: into,
      snapshots,
      commits,
      gcMs: gc.stop(),
      cpuMs: (used.user + used.system) / 1000,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
