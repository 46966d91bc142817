import fc from 'fast-check';
import { expect, test } from 'vitest';
import { describeDifference, describeFault, firstDifference, runWithFaults } from '../src/testkit/index.ts';
import { caseArb, propertySeed } from './cases.ts';
import { buildApp } from './random-dag.ts';

/**
 * The same oracle on the real clock (windows of 15 ms), where window boundaries depend on timing (load, GC, a
 * recovery replaying): the run under faults is compared with a fault-free run on virtual time held to the
 * boundaries the real-clock run logged (docs/guarantees.md, "Windows on the real clock": equal output for the
 * same boundaries). So the test checks the timing paths under faults — windows closing once the inputs
 * finished their burst, a recovery restarting the open window's clock, replays cut at the logged place — and
 * cannot flake on a loaded machine. Fewer cases: each takes a few hundred milliseconds. Replay:
 * SLUICE_PROPERTY_SEED=<seed>.
 */
const seed = propertySeed;
const numRuns = Number(process.env.SLUICE_REALTIME_RUNS ?? 12);

test(`exactly-once output on the real clock under random faults (${numRuns} cases, seed ${seed})`, async () => {
  console.log(
    `real-time property seed ${seed}; replay with: SLUICE_PROPERTY_SEED=${seed} npm run test:property`,
  );
  await fc.assert(
    fc.asyncProperty(
      caseArb({ windows: [5, 8], checkpointEvery: [1, 2], maxFaults: 3, timing: false }),
      async ({ c, faults }) => {
        const app = buildApp(c.spec);
        const options = { windows: c.windows, checkpointWindowCount: c.checkpointWindowCount };
        const actual = await runWithFaults(app, {
          ...options,
          faults,
          realTimeWindowMs: 15,
          replayFrom: c.replayFrom,
        });
        const under = faults.map(describeFault).join('; ');
        if (actual.error) throw new Error(`run failed under ${under}: ${actual.error.message}`);
        const expected = await runWithFaults(app, { ...options, boundaries: actual.boundaries });
        expect(expected.error).toBeUndefined();
        const diff = firstDifference(expected.outputs, actual.outputs);
        if (diff) throw new Error(`${describeDifference(diff)} under ${under}`);
        expect(actual.replayMismatches).toEqual([]);
      },
    ),
    { seed, numRuns },
  );
}, 300_000);
