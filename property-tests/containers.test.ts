import fc from 'fast-check';
import { expect, test } from 'vitest';
import { planPhysical } from '../src/index.ts';
import {
  containerFaultArb,
  describeDifference,
  describeFault,
  faultScheduleArb,
  firstDifference,
  isContainerFault,
  runWithFaults,
} from '../src/testkit/index.ts';
import { propertySeed } from './cases.ts';
import { buildApp, type DagSpec, dagSpecArb } from './random-dag.ts';

/**
 * The oracle on containers: generated DAGs (partitions up to 8, default and stateful unifiers in cascading
 * layers, mixed localities) over 2–4 worker-thread containers, under schedules that always kill or hang a
 * container and may add operator throws, failed or damaged snapshot writes and relaunches: every window
 * each sink applies holds what it holds in a fault-free run in one thread, in the same order. Few cases:
 * each spawns its containers on every launch and waits out a hang's heartbeat limit.
 *
 * Replay a failure: SLUICE_PROPERTY_SEED=<seed> npx vitest run property-tests/containers.test.ts
 */
const seed = propertySeed;
const numRuns = Number(process.env.SLUICE_CONTAINER_RUNS ?? 4);

/** Each container loads the DAG of `spec` from this module (dag-app.ts builds it from the query). */
const moduleOf = (spec: DagSpec) =>
  new URL(`./dag-app.ts?spec=${encodeURIComponent(JSON.stringify(spec))}`, import.meta.url);

const caseArb = fc
  .record({
    spec: dagSpecArb,
    windows: fc.integer({ min: 6, max: 9 }),
    checkpointWindowCount: fc.integer({ min: 1, max: 3 }),
    containers: fc.integer({ min: 2, max: 4 }),
  })
  .chain((c) => {
    const plan = planPhysical(buildApp(c.spec).dag());
    const o = { ...c, maxFaults: 3 };
    // At least one container fault in every schedule: that is what this file is about.
    const faults = fc
      .tuple(containerFaultArb(o, c.containers), faultScheduleArb(plan, o))
      .map(([first, rest]) => [first, ...rest]);
    return fc.record({ c: fc.constant(c), faults });
  });

test(`exactly-once output on 2–4 containers under container kills and hangs (${numRuns} cases, seed ${seed})`, async () => {
  console.log(`containers property seed ${seed}; replay with: SLUICE_PROPERTY_SEED=${seed}`);
  const tally = { cases: 0, faultsFired: 0, containerFaultsFired: 0, relaunches: 0 };
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ c, faults }) => {
      const app = buildApp(c.spec);
      const options = { windows: c.windows, checkpointWindowCount: c.checkpointWindowCount };
      const expected = await runWithFaults(app, options);
      expect(expected.error).toBeUndefined();
      const actual = await runWithFaults(app, {
        ...options,
        faults,
        containers: c.containers,
        module: moduleOf(c.spec),
        heartbeatTimeoutMs: 1_500,
      });
      const under = faults.map(describeFault).join('; ');
      if (actual.error) throw new Error(`run failed under ${under}: ${actual.error.message}`);
      const diff = firstDifference(expected.outputs, actual.outputs);
      if (diff) throw new Error(`${describeDifference(diff)} under ${under}`);
      expect(actual.replayMismatches).toEqual([]);
      tally.cases++;
      tally.faultsFired += actual.faultsFired.length;
      tally.containerFaultsFired += actual.faultsFired.filter(isContainerFault).length;
      tally.relaunches += actual.relaunches;
    }),
    { seed, numRuns },
  );
  console.log(`containers property tally ${JSON.stringify(tally)}`);
  expect(tally.containerFaultsFired).toBeGreaterThan(0);
}, 900_000);
