import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { StatusEvent } from '../src/index.ts';
import {
  describeDifference,
  describeFault,
  firstDifference,
  isCut,
  runWithFaults,
} from '../src/testkit/index.ts';
import { caseArb, propertySeed } from './cases.ts';
import { buildApp } from './random-dag.ts';

/**
 * The guarantee at the top of docs/guarantees.md (the oracle), under random DAGs, inputs and fault
 * schedules of 0–6 faults (throws in any call of any actor, failed and damaged snapshot writes,
 * kill-and-relaunch of the whole runtime, and timing faults: windows cut early or late), recovering from
 * upstream buffers or from the sources: every window each sink applies holds what it holds in a fault-free
 * run with the same window boundaries, in the same order.
 *
 * Replay a failure: SLUICE_PROPERTY_SEED=<seed> npm run test:property
 */
const seed = propertySeed;
const numRuns = Number(process.env.SLUICE_PROPERTY_RUNS ?? 200);
const debug = {
  skipDedupe: process.env.SLUICE_DEBUG_SKIP_DEDUPE === '1',
  skipReplay: process.env.SLUICE_DEBUG_SKIP_REPLAY === '1',
};

test(`exactly-once output under random faults (${numRuns} cases, seed ${seed})`, async () => {
  console.log(`property seed ${seed}; replay with: SLUICE_PROPERTY_SEED=${seed} npm run test:property`);
  const tally = { cases: 0, faultsFired: 0, restoredFromCheckpoint: 0, faultsAfterCommit: 0 };
  await fc.assert(
    fc.asyncProperty(caseArb({ windows: [6, 14], checkpointEvery: [1, 3] }), async ({ c, faults }) => {
      const app = buildApp(c.spec);
      const options = { windows: c.windows, checkpointWindowCount: c.checkpointWindowCount };
      // Timing faults (windows cut early or late) move boundaries; the reference has the same ones.
      const expected = await runWithFaults(app, { ...options, faults: faults.filter(isCut) });
      expect(expected.error).toBeUndefined();
      // The newest commit before the first fault took effect (a failure, or the kill of a relaunch).
      let committedBeforeFault = 0;
      let faulted = false;
      let launches = 0;
      const onStatus = (e: StatusEvent) => {
        if (e.type === 'started') launches++;
        if (e.type === 'failure' || launches > 1) faulted = true;
        if (e.type === 'commit' && !faulted) committedBeforeFault = e.window;
      };
      const actual = await runWithFaults(app, {
        ...options,
        faults,
        debug,
        replayFrom: c.replayFrom,
        onStatus,
      });
      if (actual.error)
        throw new Error(`run failed under ${faults.map(describeFault).join('; ')}: ${actual.error.message}`);
      const diff = firstDifference(expected.outputs, actual.outputs);
      if (diff) throw new Error(`${describeDifference(diff)} under ${faults.map(describeFault).join('; ')}`);
      expect(actual.replayMismatches).toEqual([]);
      // A fault after a commit must be answered by a restore from a checkpoint (never from scratch).
      // (A damaged snapshot restarts nothing and may send a recovery back to the previous checkpoint.)
      const damaged = actual.faultsFired.some((f) => f.kind === 'corrupt');
      const failures = actual.faultsFired.filter((f) => !isCut(f));
      if (!damaged && failures.length > 0 && committedBeforeFault > 0) {
        tally.faultsAfterCommit++;
        expect(
          actual.restoredAt.some((w) => w >= committedBeforeFault),
          'a fault after a commit restored from a checkpoint at or after it',
        ).toBe(true);
      }
      tally.cases++;
      tally.faultsFired += actual.faultsFired.length;
      if (actual.restoredAt.some((w) => w > 0)) tally.restoredFromCheckpoint++;
    }),
    { seed, numRuns },
  );
  console.log(`property tally ${JSON.stringify(tally)}`);
  expect(tally.restoredFromCheckpoint).toBeGreaterThan(numRuns / 4);
}, 600_000);
