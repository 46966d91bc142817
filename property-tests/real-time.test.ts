import fc from 'fast-check';
import { expect, test } from 'vitest';
import { describeDifference, describeFault, firstDifference, runWithFaults } from '../src/testkit/index.ts';
import { caseArb, propertySeed } from './cases.ts';
import { buildApp } from './random-dag.ts';

/**
 * The same oracle on the real clock (windows of 15 ms): the timing paths — windows closing on time once
 * the inputs finished their burst, a recovery restarting the open window's clock — under faults.
 * Fewer cases: each takes a few hundred milliseconds. Replay: SLUICE_PROPERTY_SEED=<seed>.
 */
const seed = propertySeed;
const numRuns = Number(process.env.SLUICE_REALTIME_RUNS ?? 12);

test(`exactly-once output on the real clock under random faults (${numRuns} cases, seed ${seed})`, async () => {
  console.log(
    `real-time property seed ${seed}; replay with: SLUICE_PROPERTY_SEED=${seed} npm run test:property`,
  );
  await fc.assert(
    fc.asyncProperty(
      caseArb({ windows: [5, 8], checkpointEvery: [1, 2], maxFaults: 3 }),
      async ({ c, faults }) => {
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
      },
    ),
    { seed, numRuns },
  );
}, 300_000);
