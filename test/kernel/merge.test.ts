import { describe, expect, it } from 'vitest';
import { Collected, CollectSink } from '../../actors/index.ts';
import { MERGE_CHUNK } from '../../src/engine/operator-actor.ts';
import { application, Operator, type OperatorContext } from '../../src/index.ts';
import { runToEnd } from './kit.ts';
import { ListSource } from './operators.ts';

type Tagged = { p: number; i: number };

/** Tags each tuple with the partition that saw it. */
class TagPartition extends Operator {
  private partition = -1;
  readonly out = this.output<Tagged>();
  readonly in = this.input<number>((i) => this.out.emit({ p: this.partition, i }));

  override setup(ctx: OperatorContext): void {
    this.partition = ctx.partition;
  }
}

interface Shape {
  perWindow: number;
  perCall: number;
  /** Keys by `i % 6 === 0` (a skewed split); round robin (an even one) without it. */
  skewed?: boolean;
}

/** src → 2 partitions of TagPartition → the default unifier → sink; the sink's windows. */
async function merged(shape: Shape, options: { batchSize?: number; mailboxCapacity?: number } = {}) {
  const out = new Collected<Tagged>();
  const app = application('merge', (dag) => {
    const src = dag.add('src', ListSource<number>, {
      make: (i) => i,
      perWindow: shape.perWindow,
      perCall: shape.perCall,
    });
    const tag = dag.add('tag', TagPartition, undefined, { partitions: 2 });
    const sink = dag.add('sink', CollectSink<Tagged>, { into: out });
    const split = dag.stream('split', src.out, tag.in);
    if (shape.skewed) split.keyBy((i) => i % 6 === 0);
    dag.stream('merged', tag.out, sink.in);
  });
  await runToEnd(app, { windows: 3, checkpointWindowCount: 0, ...options });
  return out;
}

/** A window's tuples as runs: [partition, how many in a row]. */
function runs(tuples: readonly Tagged[]): [number, number][] {
  const r: [number, number][] = [];
  for (const t of tuples) {
    const last = r[r.length - 1];
    if (last && last[0] === t.p) last[1]++;
    else r.push([t.p, 1]);
  }
  return r;
}

describe('merging partitions', () => {
  it('takes MERGE_CHUNK tuples of each input in turn, then the rest of the one that has not ended', async () => {
    const out = await merged({ perWindow: 3000, perCall: 250 });
    expect(MERGE_CHUNK).toBe(1024);
    for (const w of [1, 2, 3]) {
      // Round robin deals 1500 to each partition.
      expect(runs(out.windows.get(w)!)).toEqual([
        [0, 1024],
        [1, 1024],
        [0, 476],
        [1, 476],
      ]);
    }
  });

  it('merges skewed inputs the same way: the busier one goes on alone once the other ended', async () => {
    const out = await merged({ perWindow: 3000, perCall: 250, skewed: true });
    const w1 = runs(out.windows.get(1)!);
    const sizes = new Map<number, number>();
    for (const [p, n] of w1) sizes.set(p, (sizes.get(p) ?? 0) + n);
    // One partition gets every sixth tuple (500), the other the rest (2500).
    expect([...sizes.values()].sort((a, b) => a - b)).toEqual([500, 2500]);
    const small = w1.find(([p]) => sizes.get(p) === 500)![0];
    const big = 1 - small;
    const expected: [number, number][] =
      big === 0
        ? [
            [0, 1024],
            [1, 500],
            [0, 1476],
          ]
        : [
            [0, 500],
            [1, 2500],
          ];
    expect(w1).toEqual(expected);
  });

  it.each([
    { perCall: 3000, batchSize: 1024, mailboxCapacity: 16 },
    { perCall: 61, batchSize: 7, mailboxCapacity: 2 },
    { perCall: 50, batchSize: 1, mailboxCapacity: 1 },
  ])('gives the same order whatever the batch cuts and mailbox room (%o)', async (o) => {
    for (const skewed of [false, true]) {
      const reference = await merged({ perWindow: 3000, perCall: 500, skewed });
      const out = await merged(
        { perWindow: 3000, perCall: o.perCall, skewed },
        { batchSize: o.batchSize, mailboxCapacity: o.mailboxCapacity },
      );
      expect(out.all().length).toBe(9000);
      expect(out.all()).toEqual(reference.all());
    }
  });
});
