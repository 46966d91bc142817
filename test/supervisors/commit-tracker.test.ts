import fc from 'fast-check';
import { expect, test } from 'vitest';
import { propertySeed } from '../../property-tests/cases.ts';
import { CommitTracker } from '../../supervisors/commit-tracker.ts';

test('the committed window is the newest window every actor has checkpointed', () => {
  const t = new CommitTracker(['a', 'b', 'c'], 0);
  expect(t.record('a', 10)).toBeUndefined();
  expect(t.record('b', 10)).toBeUndefined();
  expect(t.record('a', 20)).toBeUndefined();
  expect(t.record('c', 10)).toBe(10);
  expect(t.committed).toBe(10);
  expect(t.record('b', 20)).toBeUndefined();
  expect(t.record('c', 20)).toBe(20);
});

test('newestCommon picks the newest checkpoint a recovery set shares, even above the commit', () => {
  const t = new CommitTracker(['a', 'b', 'c'], 5);
  t.record('a', 10);
  t.record('b', 10);
  expect(t.committed).toBe(5);
  expect(t.newestCommon(['a', 'b'])).toBe(10);
  expect(t.newestCommon(['a', 'c'])).toBe(5);
});

test('without any checkpoint a recovery starts from scratch (window 0)', () => {
  expect(new CommitTracker(['a'], 0).newestCommon(['a'])).toBe(0);
});

test('an actor whose snapshot of a window failed to write holds the commit back to what all share', () => {
  const t = new CommitTracker(['a', 'b'], 3);
  t.record('a', 6);
  expect(t.record('b', 7)).toBeUndefined(); // b has 3 and 7, a has 3 and 6: nothing newer is shared
  expect(t.committed).toBe(3);
  expect(t.newestCommon(['a', 'b'])).toBe(3);
  expect(t.record('a', 7)).toBe(7);
});

test('a checkpoint recorded twice counts once', () => {
  const t = new CommitTracker(['a', 'b'], 0);
  expect(t.record('a', 4)).toBeUndefined();
  expect(t.record('a', 4)).toBeUndefined();
  expect(t.committed).toBe(0);
  expect(t.record('b', 4)).toBe(4);
});

/** The definition: the newest window in the intersection of every actor's checkpoints, never going back. */
function modelCommit(recorded: ReadonlyMap<string, ReadonlySet<number>>, committed: number): number {
  const sets = [...recorded.values()];
  let newest = committed;
  for (const w of sets[0]!) if (w > newest && sets.every((s) => s.has(w))) newest = w;
  return newest;
}

const seed = propertySeed;

// Replay a failure: SLUICE_PROPERTY_SEED=<seed> npx vitest run test/supervisors/commit-tracker.test.ts
test(`records in any order, with holes and repeats, commit what the definition says (seed ${seed})`, () => {
  const actors = ['a', 'b', 'c', 'd'];
  const records = fc.array(fc.tuple(fc.constantFrom(...actors), fc.integer({ min: 1, max: 12 })), {
    maxLength: 60,
  });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 }), records, (restored, list) => {
      const t = new CommitTracker(actors, restored);
      const model = new Map(actors.map((id) => [id, new Set(restored > 0 ? [restored] : [])]));
      let committed = restored;
      for (const [id, w] of list) {
        model.get(id)!.add(w);
        const next = modelCommit(model, committed);
        expect(t.record(id, w)).toBe(next > committed ? next : undefined);
        committed = next;
        expect(t.committed).toBe(committed);
      }
    }),
    { seed, numRuns: 300 },
  );
});
