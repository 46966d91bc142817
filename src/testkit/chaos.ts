import fc from 'fast-check';
import type { Application } from '../api/application.ts';
import { planPhysical } from '../plan/planner.ts';
import { faultScheduleArb } from './arbitraries.ts';
import { type CompareOptions, describeDifference, firstDifference } from './compare.ts';
import { describeFault, type Fault } from './faults.ts';
import { runWithFaults, type TestRunOptions } from './run-with-faults.ts';

export interface ChaosOptions extends CompareOptions {
  runs?: number;
  seed?: number;
  windows?: number;
  checkpointWindowCount?: number;
  maxFaults?: number;
  debug?: TestRunOptions['debug'];
}

export interface ChaosVerdict {
  ok: boolean;
  seed: number;
  runs: number;
  /** Runs in which an actor was restored from a checkpoint (window > 0). */
  restoredRuns: number;
  faultsFired: number;
  /** On failure: the smallest fault schedule found and what went wrong. */
  counterexample?: { faults: Fault[]; problem: string };
}

/**
 * Fault-injection check of an application: one fault-free run, then `runs` runs under random fault
 * schedules; every sink's per-window output must equal the fault-free run's.
 */
export async function chaos(app: Application, options: ChaosOptions = {}): Promise<ChaosVerdict> {
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const runs = options.runs ?? 100;
  const windows = options.windows ?? 12;
  const checkpointWindowCount = options.checkpointWindowCount ?? 2;
  const base = { windows, checkpointWindowCount, debug: options.debug };
  const expected = await runWithFaults(app, { windows, checkpointWindowCount });
  if (expected.error) throw expected.error;
  const plan = planPhysical(app.dag());
  let restoredRuns = 0;
  let faultsFired = 0;
  const property = fc.asyncProperty(
    faultScheduleArb(plan, { windows, checkpointWindowCount, maxFaults: options.maxFaults }),
    async (faults) => {
      const actual = await runWithFaults(app, { ...base, faults });
      faultsFired += actual.faultsFired.length;
      if (actual.restoredAt.some((w) => w > 0)) restoredRuns++;
      if (actual.error) throw new Error(`the run failed: ${actual.error.message}`);
      const d = firstDifference(expected.outputs, actual.outputs, options);
      if (d) throw new Error(describeDifference(d));
      if (actual.replayMismatches.length > 0) throw new Error(actual.replayMismatches[0]);
    },
  );
  const details = await fc.check(property, { numRuns: runs, seed, endOnFailure: false });
  if (!details.failed) return { ok: true, seed, runs, restoredRuns, faultsFired };
  const faults = (details.counterexample?.[0] ?? []) as Fault[];
  const problem =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return { ok: false, seed, runs, restoredRuns, faultsFired, counterexample: { faults, problem } };
}

export function describeVerdict(v: ChaosVerdict): string {
  if (v.ok) {
    return `ok: ${v.runs} fault schedules (${v.faultsFired} faults fired, ${v.restoredRuns} runs restored from a checkpoint), output identical to the fault-free run; seed ${v.seed}`;
  }
  const faults = v.counterexample!.faults.map(describeFault).join('; ') || 'no faults';
  return `FAILED with seed ${v.seed}: ${v.counterexample!.problem}\n  smallest fault schedule: ${faults}`;
}
