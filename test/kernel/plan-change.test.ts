import { describe, expect, it } from 'vitest';
import { describePlanChange } from '../../src/plan/plan-change.ts';

describe('describePlanChange: what a store plan mismatch reports', () => {
  it('names the actors added and removed', () => {
    expect(
      describePlanChange(['src', 'sum', 'print'], ['src', 'sum#0', 'sum#1', 'sums:unifier', 'print']),
    ).toBe('actors added: sum#0, sum#1, sums:unifier; actors removed: sum');
  });

  it('says when only the order changed, with both orders', () => {
    expect(describePlanChange(['a', 'b', 'c'], ['a', 'c', 'b'])).toBe(
      'the same actors in another order (was a, b, c; now a, c, b)',
    );
  });
});
