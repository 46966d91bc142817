/**
 * The after-recovery bench's application on containers: the fused case study of bench/sluice-pipeline.ts
 * (keys typed, every stream 'thread', so the whole chain is one container's), loadable by path as
 * containers load applications. Settings come from the environment, which workers inherit:
 *
 * - AFTER_RECOVERY_FAIL_WINDOW: GenerateDimensions throws once, halfway through this window (0: never).
 *   Once per run, not per worker: the replacement container loads this module afresh, so the fault is
 *   marked done in a file (AFTER_RECOVERY_FLAG) before it is thrown;
 * - AFTER_RECOVERY_OUT: a file; Average writes its checksum there at teardown. The checksum is Average's
 *   state (the fence of an exactly-once sink), so a container replaced mid-run restores it with the rest.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { application, Operator } from '../src/index.ts';
import {
  AverageChecksum,
  addToTyped,
  newTypedSums,
  type PartialSum,
  READINGS_PER_WINDOW,
  resetTyped,
  type TypedSums,
} from './case-study-workload.ts';
import {
  armFault,
  FailingGenerateDimensions,
  InputReceiver,
  injectedFault,
  PrereqAverageTyped,
} from './sluice-pipeline.ts';

const failWindow = Number(process.env.AFTER_RECOVERY_FAIL_WINDOW ?? '0');
const flag = process.env.AFTER_RECOVERY_FLAG ?? '';
if (failWindow > 0) {
  armFault(failWindow, READINGS_PER_WINDOW / 2);
  // Once per run, not per worker: the replacement container loads this module afresh.
  injectedFault.claim = () => {
    if (existsSync(flag)) return false;
    writeFileSync(flag, String(failWindow));
    return true;
  };
}

interface DurableAverageState {
  totals: TypedSums;
  value: number;
  averages: number;
  tuples: number;
  lastApplied: number;
}

/** AverageTyped with its checksum in its state, written to AFTER_RECOVERY_OUT at teardown. */
class DurableAverage extends Operator<DurableAverageState> {
  readonly in = this.input<PartialSum>((p) =>
    addToTyped(this.state.totals, p.key, p.cpu, p.ram, p.hdd, p.count),
  );
  private window = 0;

  override initialState(): DurableAverageState {
    return { totals: newTypedSums(), value: 0, averages: 0, tuples: 0, lastApplied: 0 };
  }

  override beginWindow(w: number): void {
    this.window = w;
  }

  override endWindow(): void {
    const s = this.state;
    if (this.window <= s.lastApplied) {
      resetTyped(s.totals);
      return;
    }
    const c = Object.assign(new AverageChecksum(), {
      value: s.value,
      averages: s.averages,
      tuples: s.tuples,
    });
    c.addWindowTyped(s.totals);
    Object.assign(s, { value: c.value, averages: c.averages, tuples: c.tuples, lastApplied: this.window });
  }

  override teardown(): void {
    const file = process.env.AFTER_RECOVERY_OUT;
    const { value, averages, tuples, lastApplied } = this.state;
    if (file)
      writeFileSync(file, JSON.stringify({ checksum: `${value}:${averages}:${tuples}`, lastApplied }));
  }
}

export default application('bench-after-recovery-containers', (dag) => {
  const recv = dag.add('InputReceiver', InputReceiver, {
    readingsPerWindow: READINGS_PER_WINDOW,
    batch: 1024,
  });
  const dims = dag.add('GenerateDimensions', FailingGenerateDimensions);
  const prereq = dag.add('PrereqAverage', PrereqAverageTyped);
  const avg = dag.add('Average', DurableAverage);
  dag.stream('generate_dimension', recv.out, dims.in).locality('thread');
  dag
    .stream('prereq_calculation', dims.out, prereq.in)
    .locality('thread')
    .keyBy((t) => t.key);
  dag.stream('inter_avg', prereq.out, avg.in).locality('thread');
});
