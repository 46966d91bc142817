import fc from 'fast-check';
import { planPhysical } from '../src/index.ts';
import { faultScheduleArb } from '../src/testkit/index.ts';
import { buildApp, dagSpecArb } from './random-dag.ts';

/** The run's seed: SLUICE_PROPERTY_SEED replays a failure, otherwise a random one (printed by each test). */
export const propertySeed = Number(process.env.SLUICE_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** A random DAG, run length, checkpoint interval and recovery mode, with a fault schedule for its plan. */
export function caseArb(o: {
  windows: [number, number];
  checkpointEvery: [number, number];
  maxFaults?: number;
  /** Timing faults (virtual time only). Default true. */
  timing?: boolean;
}) {
  return fc
    .record({
      spec: dagSpecArb,
      windows: fc.integer({ min: o.windows[0], max: o.windows[1] }),
      checkpointWindowCount: fc.integer({ min: o.checkpointEvery[0], max: o.checkpointEvery[1] }),
      replayFrom: fc.constantFrom('buffers' as const, 'sources' as const),
    })
    .chain((c) => {
      const plan = planPhysical(buildApp(c.spec).dag());
      const faults = faultScheduleArb(plan, { ...c, maxFaults: o.maxFaults, timing: o.timing });
      return fc.record({ c: fc.constant(c), faults });
    });
}
