import { expect, test } from 'vitest';
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
