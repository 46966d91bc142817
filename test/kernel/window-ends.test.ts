import fc from 'fast-check';
import { expect, test } from 'vitest';
import { propertySeed } from '../../property-tests/cases.ts';
import type { Actor } from '../../src/engine/actor.ts';
import { WindowEnds } from '../../src/engine/window-ends.ts';

/** WindowEnds only reads `lastEnded`: a stand-in actor is enough. */
const actor = (lastEnded: number) => ({ lastEnded }) as Actor;

test('the done window is the newest window every actor has ended', () => {
  const [a, b, c] = [actor(0), actor(0), actor(0)];
  const ends = new WindowEnds();
  ends.reset([a!, b!, c!]);
  expect(ends.min).toBe(0);
  expect(ends.ended(a!, 1)).toBe(0);
  expect(ends.ended(a!, 2)).toBe(0);
  expect(ends.ended(b!, 1)).toBe(0);
  expect(ends.ended(c!, 1)).toBe(1);
  expect(ends.ended(b!, 2)).toBe(1);
  expect(ends.ended(c!, 2)).toBe(2);
});

test('an instance that was replaced (not in the last reset) changes nothing', () => {
  const old = actor(3);
  const fresh = actor(3);
  const other = actor(5);
  const ends = new WindowEnds();
  ends.reset([fresh, other]);
  expect(ends.ended(old, 9)).toBe(3);
  expect(ends.ended(fresh, 4)).toBe(4);
});

const seed = propertySeed;

// Replay a failure: SLUICE_PROPERTY_SEED=<seed> npx vitest run test/kernel/window-ends.test.ts
test(`in any interleaving of window ends and resets it is the minimum over the actors (seed ${seed})`, () => {
  const step = fc.oneof(
    { weight: 9, arbitrary: fc.record({ end: fc.nat(5), by: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ reset: fc.nat(5), to: fc.nat(20) }) },
  );
  fc.assert(
    fc.property(
      fc.array(fc.nat(10), { minLength: 1, maxLength: 6 }),
      fc.array(step, { maxLength: 80 }),
      (start, steps) => {
        const actors = start.map(actor);
        const ends = new WindowEnds();
        ends.reset(actors);
        for (const s of steps) {
          if ('end' in s) {
            const a = actors[s.end % actors.length]!;
            a.lastEnded += s.by;
            ends.ended(a, a.lastEnded);
          } else {
            // A recovery: one actor rebuilt at a window (possibly an older one), then a reset.
            actors[s.reset % actors.length] = actor(s.to);
            ends.reset(actors);
          }
          expect(ends.min).toBe(Math.min(...actors.map((a) => a.lastEnded)));
        }
      },
    ),
    { seed, numRuns: 300 },
  );
});
