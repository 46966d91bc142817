import fc from 'fast-check';
import type { Application } from '../api/application.ts';
import { WindowFencedOutput } from '../api/window-fenced-output.ts';
import { SluiceError } from '../core/errors.ts';
import { DEFAULT_MAX_CALLS } from '../engine/window-generator.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { planPhysical } from '../plan/planner.ts';
import { cutArb, faultScheduleArb } from './arbitraries.ts';
import { type CompareOptions, describeDifference, firstDifference, streamOf } from './compare.ts';
import { describeFault, type Fault, isContainerFault, isCut } from './faults.ts';
import type { SinkOutputs } from './output-recorder.ts';
import { runWithFaults, type TestRunOptions, type WindowBoundaries } from './run-with-faults.ts';

export interface ChaosOptions extends CompareOptions {
  runs?: number;
  seed?: number;
  windows?: number;
  checkpointWindowCount?: number;
  maxFaults?: number;
  debug?: TestRunOptions['debug'];
  /**
   * The application's output must not depend on where window boundaries fall (it has no per-window
   * aggregates): windows cut at random must leave every sink's stream as it was, or the verdict fails.
   * Without it, such a dependence is reported as a note.
   */
  boundaryIndependent?: boolean;
  /**
   * Run each schedule on this many worker-thread containers (needs `module`), adding container kills and
   * hangs to the schedules (and leaving out timing faults); the fault-free reference runs in one thread.
   */
  containers?: number;
  /** The application module (path or file URL) whose default export is `app`: each container loads it. */
  module?: string | URL;
  /** Called after each run under a fault schedule (the command's progress lines). */
  onProgress?: (progress: ChaosProgress) => void;
}

/** How far a chaos check has come. */
export interface ChaosProgress {
  /** Fault schedules run so far, of `runs`. */
  done: number;
  runs: number;
  faultsFired: number;
  restoredRuns: number;
  /** Smaller schedules tried since one failed (fast-check shrinking it); 0 until then. */
  shrinkSteps: number;
}

export interface ChaosVerdict {
  ok: boolean;
  seed: number;
  runs: number;
  /** Runs in which an actor was restored from a checkpoint (window > 0). */
  restoredRuns: number;
  faultsFired: number;
  /** Of those, containers killed or hung (runs on containers only). */
  containerFaultsFired?: number;
  /** On failure: the smallest fault schedule found and what went wrong. */
  counterexample?: { faults: Fault[]; problem: string };
  /**
   * Set when windows cut early changed a sink's stream (its windows joined): expected of per-window
   * aggregates; a source that forgets what it owed when a window closed shows here too.
   */
  boundaryDependence?: { faults: Fault[]; difference: string; behind?: string; dropsOwed?: string };
  /**
   * Sinks that are not WindowFencedOutputs: the kit checks what they receive, which is exactly once, but
   * not what they write elsewhere, which a replayed window writes again unless they fence it themselves.
   */
  unfencedSinks?: string[];
}

/**
 * Fault-injection check of an application: `runs` runs under random fault schedules (failures, and
 * timing faults that cut windows early or late); every sink's per-window output must equal that of a
 * fault-free run with the same window boundaries. Then a check that windows cut early leave each sink's
 * stream as it was (a note, or a failure with `boundaryIndependent`).
 */
export async function chaos(app: Application, options: ChaosOptions = {}): Promise<ChaosVerdict> {
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const runs = options.runs ?? 100;
  const windows = options.windows ?? 12;
  const checkpointWindowCount = options.checkpointWindowCount ?? 2;
  const base = { windows, checkpointWindowCount, debug: options.debug };
  const containers = options.containers ?? 1;
  // A usage error, thrown: as a verdict it would read as a failed run (and be shrunk to "not deterministic").
  if (containers > 1 && options.module === undefined)
    throw new SluiceError(
      'SLUICE_INVALID_OPTION',
      'chaos: containers needs module, the application module (each container loads it)',
    );
  const onContainers = containers > 1 ? { containers, module: options.module } : {};
  const uncut = await runWithFaults(app, { windows, checkpointWindowCount });
  if (uncut.error) {
    // Nothing to compare with: the verdict says so (a failure with no fault, seed and all), not a throw.
    const problem = `the application fails without any fault: ${uncut.error.message}`;
    return {
      ok: false,
      seed,
      runs: 0,
      restoredRuns: 0,
      faultsFired: 0,
      counterexample: { faults: [], problem },
    };
  }
  if (options.keyOf) checkKeyOf(uncut.outputs, options.keyOf);
  // The reference of a schedule holds the same window boundaries: the same timing faults, no failures.
  // Shrinking tries many schedules with the same cuts: each reference is run once.
  const references = new Map<string, Awaited<ReturnType<typeof runWithFaults>>>();
  const referenceFor = async (faults: Fault[]) => {
    const cuts = faults.filter(isCut);
    if (cuts.length === 0) return uncut;
    const key = JSON.stringify(cuts.map((c) => [c.actor, c.window, c.calls]).sort());
    let reference = references.get(key);
    if (!reference) {
      reference = await runWithFaults(app, { windows, checkpointWindowCount, faults: cuts });
      references.set(key, reference);
    }
    if (reference.error)
      throw new Error(`the run failed under timing faults alone: ${reference.error.message}`);
    return reference;
  };
  const plan = planPhysical(app.dag());
  let restoredRuns = 0;
  let faultsFired = 0;
  let containerFaultsFired = 0;
  // Counts each run for onProgress: the runs after the first failure are fast-check shrinking it.
  const tried = { done: 0, shrinkSteps: 0, failed: false };
  const counted =
    (check: (faults: Fault[]) => Promise<void>) =>
    async (faults: Fault[]): Promise<void> => {
      const failedBefore = tried.failed;
      try {
        await check(faults);
      } catch (e) {
        tried.failed = true;
        throw e;
      } finally {
        if (failedBefore) tried.shrinkSteps++;
        else tried.done++;
        const { done, shrinkSteps } = tried;
        options.onProgress?.({ done, runs, faultsFired, restoredRuns, shrinkSteps });
      }
    };
  const property = fc.asyncProperty(
    faultScheduleArb(plan, { windows, checkpointWindowCount, maxFaults: options.maxFaults, containers }),
    counted(async (faults) => {
      const expected = await referenceFor(faults);
      const actual = await runWithFaults(app, { ...base, ...onContainers, faults });
      faultsFired += actual.faultsFired.length;
      containerFaultsFired += actual.faultsFired.filter(isContainerFault).length;
      if (actual.restoredAt.some((w) => w > 0)) restoredRuns++;
      if (actual.error) throw new Error(`the run failed: ${actual.error.message}`);
      const d = firstDifference(expected.outputs, actual.outputs, options);
      if (d) throw new Error(describeDifference(d));
      if (actual.replayMismatches.length > 0) throw new Error(actual.replayMismatches[0]);
    }),
  );
  const details = await fc.check(property, { numRuns: runs, seed, endOnFailure: false });
  const boundaryDependence = await boundaryCheck(app, uncut, plan, { ...base, seed, options });
  const onThreads = containers > 1 ? { containerFaultsFired } : {};
  const unfenced = unfencedSinks(app);
  const tally = {
    seed,
    runs,
    restoredRuns,
    faultsFired,
    ...onThreads,
    boundaryDependence,
    ...(unfenced.length > 0 ? { unfencedSinks: unfenced } : {}),
  };
  if (!details.failed) {
    if (boundaryDependence?.dropsOwed) {
      const problem = `${boundaryDependence.dropsOwed}: a window cut early lost tuples (${boundaryDependence.difference})`;
      return { ok: false, ...tally, counterexample: { faults: boundaryDependence.faults, problem } };
    }
    if (boundaryDependence && options.boundaryIndependent) {
      const problem = `the output depends on window boundaries: ${boundaryDependence.difference}`;
      return { ok: false, ...tally, counterexample: { faults: boundaryDependence.faults, problem } };
    }
    return { ok: true, ...tally };
  }
  const faults = (details.counterexample?.[0] ?? []) as Fault[];
  const problem =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return { ok: false, ...tally, counterexample: { faults, problem } };
}

/** Windows cut early (never in the last three, so sources can catch up): is each sink's stream the same? */
async function boundaryCheck(
  app: Application,
  uncut: { outputs: SinkOutputs; boundaries: WindowBoundaries },
  plan: PhysicalPlan,
  o: { windows: number; checkpointWindowCount: number; seed: number; options: ChaosOptions },
): Promise<ChaosVerdict['boundaryDependence']> {
  if (o.windows < 5) return undefined;
  const early = cutArb(plan, { windows: o.windows - 3, checkpointWindowCount: o.checkpointWindowCount }).map(
    (f) => ({ ...f, calls: Math.min(f.calls, 3) }),
  );
  const schedules = fc.sample(
    fc.uniqueArray(early, { minLength: 1, maxLength: 2, selector: (f) => `${f.actor}@${f.window}` }),
    { numRuns: 10, seed: o.seed },
  );
  for (const faults of schedules) {
    const cut = await runWithFaults(app, {
      windows: o.windows,
      checkpointWindowCount: o.checkpointWindowCount,
      faults,
    });
    if (cut.error) return { faults, difference: `the run failed: ${cut.error.message}` };
    const d = firstDifference(streamOf(uncut.outputs), streamOf(cut.outputs), o.options);
    if (d) {
      const difference = describeDifference(d).replace(', window 0', '');
      const behind = sourcesBehind(uncut.boundaries, cut.boundaries);
      const dropsOwed = behind.length > 0 ? await quotaSourcesBehind(app, uncut, faults, behind, o) : [];
      return {
        faults,
        difference,
        ...(behind.length > 0 ? { behind: behind.map((b) => b.text).join(', ') } : {}),
        ...(dropsOwed.length > 0 ? { dropsOwed: describeDropsOwed(dropsOwed) } : {}),
      };
    }
  }
  return undefined;
}

/**
 * Of the input operators behind after an early cut, those that are behind for good: the same windows cut
 * late instead (twice the calls a window gets) gave them no more tuples than the uncut run. Such an operator
 * emits a fixed number per window and forgot, at the early cut, what it still owed (one that emits as fast
 * as it is called emits more in a longer window: it only lags, and catches up when called more).
 */
async function quotaSourcesBehind(
  app: Application,
  uncut: { boundaries: WindowBoundaries },
  earlyCuts: Fault[],
  behind: readonly SourceBehind[],
  o: { windows: number; checkpointWindowCount: number },
): Promise<SourceBehind[]> {
  const late = earlyCuts.map((f) => ({ ...f, calls: DEFAULT_MAX_CALLS * 2 }));
  const run = await runWithFaults(app, {
    windows: o.windows,
    checkpointWindowCount: o.checkpointWindowCount,
    faults: late,
  });
  if (run.error) return [];
  return behind.filter(
    (b) => emittedBy(run.boundaries.get(b.actor)) <= emittedBy(uncut.boundaries.get(b.actor)),
  );
}

function describeDropsOwed(sources: readonly SourceBehind[]): string {
  const names = sources.map((s) => s.actor).join(', ');
  return `input operator ${names} drops what it owes when a window is cut early (${sources.map((s) => s.text).join(', ')} over the same windows, and no more when windows were cut late: a fixed number per window): keep what it still owes in this.state, not in a field reset in beginWindow (docs/operators.md, Determinism)`;
}

interface SourceBehind {
  actor: string;
  text: string;
}

/** Tuples an input operator emitted over a run, from its window log. */
function emittedBy(windows: Map<number, number[]> | undefined): number {
  return [...(windows?.values() ?? [])].reduce((n, counts) => n + counts.reduce((a, b) => a + b, 0), 0);
}

/** Input operators that emitted fewer tuples over the run in `cut` than in `uncut` (from the window logs). */
function sourcesBehind(uncut: WindowBoundaries, cut: WindowBoundaries): SourceBehind[] {
  return [...uncut].flatMap(([actor, windows]) => {
    const missing = emittedBy(windows) - emittedBy(cut.get(actor));
    return missing > 0 ? [{ actor, text: `${actor} emitted ${missing} fewer tuples` }] : [];
  });
}

/** The application's sinks (operators no stream leaves) that are not WindowFencedOutputs. */
function unfencedSinks(app: Application): string[] {
  const dag = app.dag();
  const writers = new Set(dag.streams.map((s) => s.from.operator));
  return [...dag.operators]
    .filter(
      ([name, op]) => !op.isInput && !writers.has(name) && !(op.cls.prototype instanceof WindowFencedOutput),
    )
    .map(([name]) => name);
}

export function describeVerdict(v: ChaosVerdict): string {
  if (v.ok) {
    const sinks = v.unfencedSinks ?? [];
    const one = sinks.length === 1;
    const unfenced =
      sinks.length > 0
        ? `\n  note: ${sinks.join(', ')} ${one ? 'is a sink' : 'are sinks'} but no WindowFencedOutput: the tuples ${one ? 'it receives' : 'they receive'} are exactly once (checked here), but anything ${one ? 'it writes' : 'they write'} elsewhere (a file, a database) is written again when a recovery replays a window, unless ${one ? 'it fences its windows itself' : 'they fence their windows themselves'} (docs/operators.md, WindowFencedOutput)`
        : '';
    const b = v.boundaryDependence;
    const behind = b?.behind
      ? `\n  (over the same windows ${b.behind} when a window was cut early, and more when cut late: it emits as fast as it is called, so it lags, and catches up when called more)`
      : '';
    const note = b
      ? `\n  note: the output depends on window boundaries (${b.difference} when ${b.faults.map(describeFault).join('; ')}): expected of per-window aggregates, of merged partitions unless compared per key (--key), and of joins whose result depends on how their inputs interleave; otherwise check that its input operators keep what they owe in state${behind}`
      : '';
    const containers =
      v.containerFaultsFired === undefined ? '' : ` (${v.containerFaultsFired} container kills or hangs)`;
    return `ok: ${v.runs} fault schedules (${v.faultsFired} faults fired${containers}, ${v.restoredRuns} runs restored from a checkpoint), output identical to the fault-free run with the same window boundaries; seed ${v.seed}${note}${unfenced}`;
  }
  const { faults, problem } = v.counterexample!;
  const schedule = faults.map(describeFault).join('; ') || 'no faults';
  // Output that differs with no fault at all: two fault-free runs of the application differ.
  const hint =
    faults.length === 0 && v.runs > 0
      ? '\n  no fault was needed: runs without faults differ, so the application is not deterministic (the wall clock, unseeded randomness, a timer or callback emitting, or the order of something unordered; docs/operators.md, Determinism)'
      : '';
  return `FAILED with seed ${v.seed}: ${problem}\n  smallest fault schedule: ${schedule}${hint}`;
}

/**
 * A key that no tuple has (a misspelt `--key`) would compare nothing per key, silently: every tuple would
 * fall under one key, undefined. Refused once the fault-free run shows what the sinks receive.
 */
function checkKeyOf(outputs: SinkOutputs, keyOf: (tuple: any) => unknown): void {
  let example: unknown;
  for (const windows of outputs.values()) {
    for (const tuples of windows.values()) {
      for (const t of tuples) {
        if (keyOf(t) !== undefined) return;
        example ??= t;
      }
    }
  }
  if (example === undefined) return; // no tuple at all: nothing to compare either way
  throw new SluiceError(
    'SLUICE_INVALID_OPTION',
    `the key to compare by (--key, keyOf) is undefined for every tuple the sinks received in the fault-free run; a tuple: ${preview(example)}`,
  );
}

function preview(tuple: unknown): string {
  const text = JSON.stringify(tuple) ?? String(tuple);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
