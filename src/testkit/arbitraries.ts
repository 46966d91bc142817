import fc from 'fast-check';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { ContainerFault, CutFault, Fault } from './faults.ts';

export interface FaultArbitraryOptions {
  windows: number;
  checkpointWindowCount: number;
  maxFaults?: number;
  /** Include crash-and-relaunch of the whole runtime. Default true. */
  relaunch?: boolean;
  /** Include timing faults (windows cut early or late). Default true; never on containers. */
  timing?: boolean;
  /**
   * The run is on this many containers: ≥ 2 adds container kills and hangs, and leaves out what cannot
   * reach a worker (timing faults; throws in default unifiers, whose class the test kit cannot wrap there).
   * 1 or undefined: one thread, no container faults.
   */
  containers?: number;
}

/**
 * A window of an input operator cut early (after 1–3 calls: mid-burst for most sources) or late (after
 * up to 80: past an idle source's end, past the 64 calls a never-pausing one gets).
 */
export function cutArb(plan: PhysicalPlan, o: FaultArbitraryOptions): fc.Arbitrary<CutFault> {
  const inputs = plan.actors.filter((a) => a.isInput).map((a) => a.id);
  return fc.record({
    kind: fc.constant('cut' as const),
    actor: fc.constantFrom(...inputs),
    window: fc.integer({ min: 1, max: o.windows }),
    calls: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
      { weight: 1, arbitrary: fc.integer({ min: 4, max: 80 }) },
    ),
  });
}

/** Timing faults alone: 0..max cuts, at most one per input operator and window. */
export function cutScheduleArb(
  plan: PhysicalPlan,
  o: FaultArbitraryOptions,
  max = 4,
): fc.Arbitrary<CutFault[]> {
  return fc.uniqueArray(cutArb(plan, o), { maxLength: max, selector: (f) => `${f.actor}@${f.window}` });
}

/**
 * Windows biased to land after two completed checkpoints (a fault before any checkpoint proves little:
 * everything restarts from scratch), with some anywhere.
 */
export function faultWindowArb(o: FaultArbitraryOptions): fc.Arbitrary<number> {
  const late = Math.min(o.windows, 2 * o.checkpointWindowCount + 1);
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: late, max: o.windows }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: o.windows }) },
  );
}

/** One fault: which actor, which window, which call (and which tuple); a failed snapshot write; a relaunch. */
export function faultArb(plan: PhysicalPlan, o: FaultArbitraryOptions): fc.Arbitrary<Fault> {
  const containers = o.containers ?? 1;
  const throwable = containers > 1 ? plan.actors.filter((a) => a.kind === 'operator') : plan.actors;
  const throwArb = fc.constantFrom(...throwable).chain((actor) =>
    fc.record({
      kind: fc.constant('throw' as const),
      actor: fc.constant(actor.id),
      window: faultWindowArb(o),
      call: actor.isInput
        ? fc.constantFrom('emitTuples' as const, 'beginWindow' as const, 'endWindow' as const)
        : fc.constantFrom(
            'tuple' as const,
            'tuple' as const,
            'beginWindow' as const,
            'endWindow' as const,
            'endWindowAsync' as const,
          ),
      tuple: fc.integer({ min: 1, max: 20 }),
    }),
  );
  const storeArb = fc.record({
    kind: fc.constant('store' as const),
    actor: fc.constantFrom(...plan.actors.map((a) => a.id)),
    // Snapshots are written at multiples of the checkpoint interval.
    window: faultWindowArb(o).map(
      (w) => Math.max(1, Math.round(w / o.checkpointWindowCount)) * o.checkpointWindowCount,
    ),
  });
  // committed(w) hooks run for commit windows: multiples of the checkpoint interval, or the last window.
  const hookArb = fc.record({
    kind: fc.constant('throw' as const),
    actor: fc.constantFrom(...throwable.map((a) => a.id)),
    window: storeArb.map((f) => f.window),
    call: fc.constant('committed' as const),
  });
  const corruptArb = storeArb.map((f) => ({ ...f, kind: 'corrupt' as const }));
  const arbitraries = [
    ...(o.timing === false || containers > 1
      ? []
      : [{ weight: 2, arbitrary: cutArb(plan, o) as fc.Arbitrary<Fault> }]),
    { weight: 6, arbitrary: throwArb as fc.Arbitrary<Fault> },
    { weight: 1, arbitrary: storeArb as fc.Arbitrary<Fault> },
    { weight: 1, arbitrary: hookArb as fc.Arbitrary<Fault> },
    { weight: 1, arbitrary: corruptArb as fc.Arbitrary<Fault> },
  ];
  if (o.relaunch !== false) {
    const relaunchArb = fc.record(
      {
        kind: fc.constant('relaunch' as const),
        window: faultWindowArb(o),
        atSnapshot: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      },
      { requiredKeys: ['kind', 'window'] },
    );
    arbitraries.push({ weight: 2, arbitrary: relaunchArb });
  }
  if (containers > 1)
    arbitraries.push({ weight: 4, arbitrary: containerFaultArb(o, containers) as fc.Arbitrary<Fault> });
  return fc.oneof(...arbitraries);
}

/** A container killed or hung when it reaches a window (a run on `containers` ≥ 2 containers). */
export function containerFaultArb(
  o: FaultArbitraryOptions,
  containers: number,
): fc.Arbitrary<ContainerFault> {
  return fc.record({
    kind: fc.constantFrom('container-kill' as const, 'container-kill' as const, 'container-hang' as const),
    container: fc.integer({ min: 0, max: containers - 1 }),
    window: faultWindowArb(o),
  });
}

/**
 * A schedule of 0..maxFaults (default 6) faults (timing faults included, at most one cut per input
 * operator and window), with at most one damaged snapshot: two can hit both
 * checkpoint generations a store keeps, which no recovery can get past (SLUICE_NO_VALID_CHECKPOINT).
 */
export function faultScheduleArb(plan: PhysicalPlan, o: FaultArbitraryOptions): fc.Arbitrary<Fault[]> {
  return fc
    .array(faultArb(plan, o), { minLength: 0, maxLength: o.maxFaults ?? 6 })
    .filter((faults) => faults.filter((f) => f.kind === 'corrupt').length <= 1 && oneCutPerWindow(faults));
}

function oneCutPerWindow(faults: readonly Fault[]): boolean {
  const cuts = faults.flatMap((f) => (f.kind === 'cut' ? [`${f.actor}@${f.window}`] : []));
  return new Set(cuts).size === cuts.length;
}
