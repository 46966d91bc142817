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
  it('thousands of changed actors are named a dozen at a time, with a count of the rest', () => {
    const now = Array.from({ length: 3000 }, (_, i) => `src#${i}`);
    const message = describePlanChange(now.slice(0, 500), now);
    expect(message).toBe(`actors added: ${now.slice(500, 512).join(', ')} and 2,488 more`);
  });
});
