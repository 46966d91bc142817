import fc from 'fast-check';
import { expect, test } from 'vitest';
import { planPhysical } from '../src/index.ts';
import {
  describeDifference,
  describeFault,
  faultScheduleArb,
  firstDifference,
  runWithFaults,
} from '../src/testkit/index.ts';
import { buildApp, dagSpecArb } from './random-dag.ts';

/**
 * The same oracle on the real clock (windows of 15 ms): the timing paths — windows closing on time once
 * the inputs finished their burst, a recovery restarting the open window's clock — under faults.
 * Fewer cases: each takes a few hundred milliseconds. Replay: SLUICE_PROPERTY_SEED=<seed>.
 */
const seed = Number(process.env.SLUICE_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const numRuns = Number(process.env.SLUICE_REALTIME_RUNS ?? 12);

const caseArb = fc
  .record({
    spec: dagSpecArb,
    windows: fc.integer({ min: 5, max: 8 }),
    checkpointWindowCount: fc.integer({ min: 1, max: 2 }),
  })
  .chain((c) => {
    const plan = planPhysical(buildApp(c.spec).dag());
    const faults = faultScheduleArb(plan, { ...c, maxFaults: 3 });
    return fc.record({ c: fc.constant(c), faults });
  });

test(`exactly-once output on the real clock under random faults (${numRuns} cases, seed ${seed})`, async () => {
  console.log(
    `real-time property seed ${seed}; replay with: SLUICE_PROPERTY_SEED=${seed} npm run test:property`,
  );
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ c, faults }) => {
      const app = buildApp(c.spec);
      const options = {
        windows: c.windows,
        checkpointWindowCount: c.checkpointWindowCount,
        realTimeWindowMs: 15,
      };
      const expected = await runWithFaults(app, options);
      expect(expected.error).toBeUndefined();
      const actual = await runWithFaults(app, { ...options, faults });
      const under = faults.map(describeFault).join('; ');
      if (actual.error) throw new Error(`run failed under ${under}: ${actual.error.message}`);
      const diff = firstDifference(expected.outputs, actual.outputs);
      if (diff) throw new Error(`${describeDifference(diff)} under ${under}`);
      expect(actual.replayMismatches).toEqual([]);
    }),
    { seed, numRuns },
  );
}, 300_000);
