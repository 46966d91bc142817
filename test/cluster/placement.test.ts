import { describe, expect, it } from 'vitest';
import { place, placeReplacements } from '../../src/cluster-run/placement.ts';
import { replacementSet } from '../../src/container/replacement.ts';

const node = (nodeId: string, slots = 2) => ({ nodeId, slots, dataUrl: `ws://${nodeId}` });

describe('placing the containers of a partial restart', () => {
  it('keeps a replaced container on its node when that node lives, else the node with most free slots', () => {
    const current = place(5, [node('a'), node('b'), node('c')]).map((n, container) => ({
      container,
      node: n,
    }));
    expect(current.map((p) => p.node)).toEqual(['a', 'b', 'c', 'a', 'b']);
    // c is lost (container 2), container 4 on b is downstream of it: 4 stays on b (alive), 2 goes to a,
    // which has a free third slot (b has none).
    const where = placeReplacements(current, new Set([2, 4]), [node('a', 3), node('b')]);
    expect(Object.fromEntries(where)).toEqual({ 2: 'a', 4: 'b' });
  });

  it('spreads the containers of a lost node over the survivors by free slots', () => {
    const current = [
      { container: 0, node: 'a' },
      { container: 1, node: 'x' },
      { container: 2, node: 'x' },
      { container: 3, node: 'x' },
    ];
    const where = placeReplacements(current, new Set([1, 2, 3]), [node('a', 2), node('b', 2)]);
    expect(Object.fromEntries(where)).toEqual({ 1: 'b', 2: 'a', 3: 'b' });
  });
});

describe('the containers a partial restart replaces', () => {
  // 0 → 1 → 2, and 3 → 2: replacing 1 takes 2 along; 0 and 3 stay.
  const links = [
    { channel: 0, from: 0, to: 1 },
    { channel: 1, from: 1, to: 2 },
    { channel: 2, from: 3, to: 2 },
  ];
  const lives = (started: boolean[]) => started.map((s, container) => ({ container, started: s }));

  it('is the failed containers and everything downstream of them', () => {
    expect(replacementSet(links, [1], lives([true, true, true, true]))).toEqual(new Set([1, 2]));
    expect(replacementSet(links, [3], lives([true, true, true, true]))).toEqual(new Set([3, 2]));
  });

  it('is undefined (restart all) when that is every container, or one left out never started', () => {
    expect(replacementSet(links, [0, 3], lives([true, true, true, true]))).toBeUndefined();
    expect(replacementSet(links, [1], lives([false, true, true, true]))).toBeUndefined();
  });
});
