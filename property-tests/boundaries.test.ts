import fc from 'fast-check';
import { expect, test } from 'vitest';
import { planPhysical } from '../src/index.ts';
import {
  cutArb,
  describeDifference,
  describeFault,
  firstDifference,
  runWithFaults,
  streamOf,
} from '../src/testkit/index.ts';
import { propertySeed } from './cases.ts';
import type { Tuple } from './operators.ts';
import { buildApp, type DagSpec, dagSpecArb, type StageSpec } from './random-dag.ts';

/**
 * On the real clock, where a window boundary falls depends on timing. What must not is the stream
 * (docs/guarantees.md, "Windows on the real clock"): windows cut early at random (timing faults, as load
 * does) may move tuples between windows, but every sink receives the same tuples, in the same order per key,
 * as with no cut — for a DAG whose results do not depend on boundaries by design (no per-window aggregates,
 * no round-robin deals, no merge-order numbering). A source that forgets what it still owed when a window
 * closed fails here (SLUICE_DEBUG_DROP_OWED=1 writes the test source that way).
 *
 * Replay a failure: SLUICE_PROPERTY_SEED=<seed> npm run test:property
 */
const seed = propertySeed;
const numRuns = Number(process.env.SLUICE_BOUNDARY_RUNS ?? 60);

/**
 * The same DAG without what legitimately depends on boundaries. After a join a key arrives by two paths
 * whose interleaving follows the windows, so no running sum there.
 */
function boundaryFree(spec: DagSpec): DagSpec {
  const stage = (s: StageSpec, afterJoin = false): StageSpec => ({
    ...s,
    kind: s.kind === 'windowAggregate' || (afterJoin && s.kind === 'runningSum') ? 'map' : s.kind,
    link: s.link === 'roundRobin' ? 'keyed' : s.link,
    unifier: 'default', // no CountingUnifier
  });
  return {
    ...spec,
    head: spec.head.map((s) => stage(s)),
    branchA: spec.branchA.map((s) => stage(s)),
    branchB: spec.branchB.map((s) => stage(s)),
    tail: spec.tail.map((s) => stage(s, true)),
  };
}

const caseArb = fc
  .record({ spec: dagSpecArb.map(boundaryFree), windows: fc.integer({ min: 6, max: 12 }) })
  .chain((c) => {
    const plan = planPhysical(buildApp(c.spec).dag());
    // Early cuts (1–3 calls), at most two, early enough that the source catches up before the end.
    const cut = cutArb(plan, { windows: c.windows - 3, checkpointWindowCount: 2 }).map((f) => ({
      ...f,
      calls: Math.min(f.calls, 3),
    }));
    const cuts = fc.uniqueArray(cut, {
      minLength: 1,
      maxLength: 2,
      selector: (f) => `${f.actor}@${f.window}`,
    });
    return fc.record({ c: fc.constant(c), cuts });
  });

test(`the stream does not depend on window boundaries (${numRuns} cases, seed ${seed})`, async () => {
  console.log(
    `boundary property seed ${seed}; replay with: SLUICE_PROPERTY_SEED=${seed} npm run test:property`,
  );
  let moved = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ c, cuts }) => {
      const app = buildApp(c.spec);
      const options = { windows: c.windows, checkpointWindowCount: 2 };
      const uncut = await runWithFaults(app, options);
      const cutRun = await runWithFaults(app, { ...options, faults: cuts });
      expect(uncut.error).toBeUndefined();
      expect(cutRun.error).toBeUndefined();
      if (firstDifference(uncut.outputs, cutRun.outputs)) moved++;
      const keyOf = (t: Tuple) => `${t.k}/${t.p}`;
      const d = firstDifference(streamOf(uncut.outputs), streamOf(cutRun.outputs), { keyOf });
      if (d) throw new Error(`${describeDifference(d)} under ${cuts.map(describeFault).join('; ')}`);
    }),
    { seed, numRuns },
  );
  // The cuts did move tuples between windows in most cases (otherwise this proves nothing).
  console.log(`boundary property: ${moved} of ${numRuns} cases had other windows than the uncut run`);
  expect(moved).toBeGreaterThan(numRuns / 6);
}, 300_000);
