import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/transport/batch-codec.ts';
import { MAX_SHAPES } from '../../src/transport/numeric-columns.ts';

// Its own file: the compiled shapes are per module, and this test uses them all up.
describe('encoded batches of ever new shapes (keys that are data)', () => {
  it('stop compiling past MAX_SHAPES and still give every batch back as it was', () => {
    const layouts = new Set<number>();
    for (let b = 0; b < MAX_SHAPES + 20; b++) {
      const tuples = [
        { [`user${b}`]: b, n: 1 },
        { [`user${b}`]: b + 0.5, n: 2 },
      ];
      const bytes = encodeBatch(tuples);
      layouts.add(bytes[1]!);
      expect(decodeBatch(bytes)).toEqual(tuples);
    }
    expect([...layouts].sort()).toEqual([1, 2]); // columns, then CBOR once the cap is reached
  });
});
