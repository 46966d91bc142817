import { describe, expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import {
  type ActorPlan,
  application,
  Operator,
  type OperatorContext,
  type PhysicalPlan,
  partitionOf,
  planPhysical,
} from '../../src/index.ts';
import { runToEnd } from './kit.ts';
import { ListSource } from './operators.ts';

interface Where {
  /** key → the partitions that saw it */
  partitionsOf: Map<unknown, Set<number>>;
  /** `window/partition` → tuples seen */
  counts: Map<string, number>;
  /** partition → ctx.partitions as that instance saw it */
  partitionCounts: Map<number, number>;
}

function where(): Where {
  return { partitionsOf: new Map(), counts: new Map(), partitionCounts: new Map() };
}

/** Forwards every tuple and records which partition (ctx.partition) saw which key, per window. */
class RecordPartition<T> extends Operator<{}, { into: Where; keyOf?: (t: T) => unknown }> {
  readonly out = this.output<T>();
  private ctx!: OperatorContext;
  readonly in = this.input<T>((t) => {
    const { into, keyOf } = this.props;
    const p = this.ctx.partition;
    const key = keyOf ? keyOf(t) : t;
    let seen = into.partitionsOf.get(key);
    if (!seen) into.partitionsOf.set(key, (seen = new Set()));
    seen.add(p);
    const at = `${this.ctx.windowId}/${p}`;
    into.counts.set(at, (into.counts.get(at) ?? 0) + 1);
    this.out.emit(t);
  });

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.props.into.partitionCounts.set(ctx.partition, ctx.partitions);
  }
}

type Keyed = { key: string | number; i: number };

const unifiers = (plan: PhysicalPlan): ActorPlan[] => plan.actors.filter((a) => a.kind === 'unifier');
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('partitioning', () => {
  it.each([1, 2])(
    'sends every string key to the same one of 4 partitions in every window (%s upstream partitions)',
    async (upstream) => {
      const into = where();
      const out = new Collected<Keyed>();
      const keys = range(26).map((i) => String.fromCharCode(97 + i).repeat(1 + (i % 3)));
      const app = application('keyed', (dag) => {
        const src = dag.add(
          'src',
          ListSource<Keyed>,
          { make: (i) => ({ key: keys[(i * 7) % keys.length]!, i }), perWindow: 100, perCall: 30 },
          { partitions: upstream },
        );
        const part = dag.add(
          'part',
          RecordPartition<Keyed>,
          { into, keyOf: (t) => t.key },
          { partitions: 4 },
        );
        const sink = dag.add('sink', CollectSink<Keyed>, { into: out });
        dag.stream('by-key', src.out, part.in).keyBy((t) => t.key);
        dag.stream('merged', part.out, sink.in);
      });
      await runToEnd(app, { windows: 6, checkpointWindowCount: 2 });
      expect(into.partitionsOf.size).toBe(keys.length);
      for (const [key, partitions] of into.partitionsOf) {
        expect([...partitions], `key ${String(key)}`).toEqual([partitionOf(key, 4)]);
      }
      const used = new Set([...into.partitionsOf.values()].flatMap((s) => [...s]));
      expect(used.size).toBe(4);
      expect(out.all()).toHaveLength(600 * upstream);
    },
  );

  it('sends every numeric key to the same partition in every window', async () => {
    const into = where();
    const keys = [0, 1, 2, 3, 4, 5, 17, 255, 256, -1, -42, 2 ** 31, 2 ** 40 + 3, 1.5, -0.25];
    const app = application('numeric-keys', (dag) => {
      const src = dag.add('src', ListSource<Keyed>, {
        make: (i) => ({ key: keys[i % keys.length]!, i }),
        perWindow: 45,
        perCall: 10,
      });
      const part = dag.add('part', RecordPartition<Keyed>, { into, keyOf: (t) => t.key }, { partitions: 4 });
      dag.stream('by-key', src.out, part.in).keyBy((t) => t.key);
    });
    await runToEnd(app, { windows: 5, checkpointWindowCount: 2 });
    expect(into.partitionsOf.size).toBe(keys.length);
    for (const [key, partitions] of into.partitionsOf) {
      expect([...partitions], `key ${String(key)}`).toEqual([partitionOf(key, 4)]);
    }
    expect(new Set([...into.partitionsOf.values()].flatMap((s) => [...s])).size).toBeGreaterThan(1);
  });

  it('deals tuples round-robin: in every window the partitions differ by at most one tuple', async () => {
    const into = where();
    const perWindow = 402;
    const app = application('round-robin', (dag) => {
      const src = dag.add('src', ListSource<number>, { make: (i) => i, perWindow, perCall: 50 });
      const part = dag.add('part', RecordPartition<number>, { into }, { partitions: 4 });
      dag.stream('dealt', src.out, part.in).roundRobin();
    });
    await runToEnd(app, { windows: 5, checkpointWindowCount: 2 });
    for (let w = 1; w <= 5; w++) {
      const counts = range(4).map((p) => into.counts.get(`${w}/${p}`) ?? 0);
      expect(
        counts.reduce((a, b) => a + b),
        `window ${w}`,
      ).toBe(perWindow);
      expect(Math.max(...counts) - Math.min(...counts), `window ${w}: ${counts}`).toBeLessThanOrEqual(1);
    }
    // Each tuple went to exactly one partition.
    expect([...into.partitionsOf.values()].every((s) => s.size === 1)).toBe(true);
    expect(into.partitionsOf.size).toBe(perWindow * 5);
  });

  it('puts a pass-through unifier where 4 partitions feed 1 and delivers every tuple through it', async () => {
    const into = where();
    const out = new Collected<number>();
    const app = application('unify', (dag) => {
      const src = dag.add('src', ListSource<number>, { make: (i) => i, perWindow: 250, perCall: 64 });
      const part = dag.add('part', RecordPartition<number>, { into }, { partitions: 4 });
      const sink = dag.add('sink', CollectSink<number>, { into: out });
      dag.stream('dealt', src.out, part.in);
      dag.stream('merged', part.out, sink.in);
    });
    const plan = planPhysical(app.dag());
    const [unifier, ...others] = unifiers(plan);
    expect(others).toEqual([]);
    expect(unifier).toBeDefined();
    expect(unifier!.operator).toBe('part');
    expect(sorted(unifier!.inputs.map((c) => Number(c.from.actor.split('#')[1])))).toEqual([0, 1, 2, 3]);
    const sinkPlan = plan.actors.find((a) => a.id === 'sink')!;
    expect(sinkPlan.inputs.map((c) => c.from.actor)).toEqual([unifier!.id]);

    await runToEnd(app, { windows: 4, checkpointWindowCount: 2 });
    expect(sorted(out.all())).toEqual(range(1000));
    for (let w = 1; w <= 4; w++) {
      expect(sorted(out.windows.get(w) ?? [])).toEqual(range(250).map((i) => (w - 1) * 250 + i));
    }
  });

  it('cascades unifiers: 64 partitions at unifierLimit 4 merge in layers of 16, 4 and 1', async () => {
    const out = new Collected<number>();
    const app = application('cascade', (dag) => {
      const src = dag.add(
        'src',
        SequenceSource,
        { tuplesPerWindow: 5, batch: 2 },
        { partitions: 64, unifierLimit: 4 },
      );
      const sink = dag.add('sink', CollectSink<number>, { into: out });
      dag.stream('merged', src.out, sink.in);
    });
    const plan = planPhysical(app.dag());
    const all = unifiers(plan);
    const ids = new Set(all.map((u) => u.id));
    const fromPartitions = all.filter((u) => u.inputs.every((c) => c.from.actor.startsWith('src#')));
    const fromUnifiers = all.filter((u) => u.inputs.every((c) => ids.has(c.from.actor)));
    const intoUnifiers = (u: ActorPlan) =>
      plan.channels.some((c) => c.from.actor === u.id && ids.has(c.to.actor));
    const middle = fromUnifiers.filter(intoUnifiers);
    const root = fromUnifiers.filter((u) => !intoUnifiers(u));
    expect(all).toHaveLength(21);
    expect(fromPartitions).toHaveLength(16);
    expect(middle).toHaveLength(4);
    expect(root).toHaveLength(1);
    for (const u of all) expect(u.inputs).toHaveLength(4);
    expect(plan.actors.find((a) => a.id === 'sink')!.inputs.map((c) => c.from.actor)).toEqual([root[0]!.id]);
    // Every partition reaches exactly one leaf unifier.
    expect(
      sorted(fromPartitions.flatMap((u) => u.inputs.map((c) => Number(c.from.actor.split('#')[1])))),
    ).toEqual(range(64));

    await runToEnd(app, { windows: 3, checkpointWindowCount: 2 });
    expect(sorted(out.all())).toEqual(range(64 * 5 * 3));
    for (let w = 1; w <= 3; w++) expect(out.windows.get(w)).toHaveLength(64 * 5);
  });

  it.each(['parallel', 'thread'] as const)(
    'gives the downstream of a %s stream the upstream partitions, instance i reading partition i',
    async (kind) => {
      const into = where();
      const out = new Collected<number>();
      const app = application(`inherit-${kind}`, (dag) => {
        const src = dag.add('src', SequenceSource, { tuplesPerWindow: 30, batch: 7 }, { partitions: 3 });
        const mid = dag.add('mid', RecordPartition<number>, { into, keyOf: (n) => n % 3 });
        const sink = dag.add('sink', CollectSink<number>, { into: out });
        const s = dag.stream('aligned', src.out, mid.in);
        if (kind === 'parallel') s.parallel();
        else s.locality('thread');
        dag.stream('merged', mid.out, sink.in);
      });
      const plan = planPhysical(app.dag());
      const mids = plan.actors.filter((a) => a.operator === 'mid' && a.kind === 'operator');
      expect(mids.map((a) => [a.partition, a.partitions])).toEqual([
        [0, 3],
        [1, 3],
        [2, 3],
      ]);
      for (const m of mids) {
        expect(m.inputs.map((c) => [c.from.actor, c.fused])).toEqual([
          [`src#${m.partition}`, kind === 'thread'],
        ]);
      }

      await runToEnd(app, { windows: 3, checkpointWindowCount: 2 });
      expect([...into.partitionCounts]).toEqual(
        expect.arrayContaining([
          [0, 3],
          [1, 3],
          [2, 3],
        ]),
      );
      // SequenceSource partition p emits p, p+3, p+6, …: mid partition p must see exactly those.
      for (const [residue, partitions] of into.partitionsOf) expect([...partitions]).toEqual([residue]);
      expect(sorted(out.all())).toEqual(range(3 * 30 * 3));
    },
  );
});
