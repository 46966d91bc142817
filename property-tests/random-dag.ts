import fc from 'fast-check';
// Straight from the file: containers load this module too, and need no other actor of the library.
import { Collected, CollectSink } from '../actors/collect-sink.ts';
import {
  type Application,
  application,
  type DagBuilder,
  type InputHandle,
  type OutputHandle,
} from '../src/index.ts';
import {
  CountingUnifier,
  FilterStage,
  JoinStage,
  KeyedSource,
  MapStage,
  RunningSumStage,
  type Tuple,
  WindowAggregateStage,
} from './operators.ts';

/**
 * Random DAGs of deterministic operators: chains, fan-out, and diamonds (fan-out then join), with keyed
 * and round-robin partitions 1–8 (mostly up to 4), parallel and thread-local links, the other links at
 * mixed localities (container, node, any: where containers place their ends), order-sensitive running
 * sums anywhere, and partitions merged by the default or a stateful unifier, in cascading layers when
 * there are more partitions than the unifier limit.
 */
export type StageKind = 'map' | 'filter' | 'runningSum' | 'windowAggregate';
export type Link = 'keyed' | 'roundRobin' | 'parallel' | 'thread';
/** The locality of a queued (non-thread) link. */
export type QueuedLocality = 'container' | 'node' | 'any';
/** How a partitioned stage's partitions merge: the default pass-through unifier, or a stateful one. */
export type UnifierKind = 'default' | 'counting';

export interface StageSpec {
  kind: StageKind;
  partitions: number;
  link: Link;
  locality: QueuedLocality;
  unifier: UnifierKind;
  /** Inputs per unifier (2: 8 partitions merge through layers of 4, 2 and 1 unifiers). */
  unifierLimit: number;
  a: number;
  b: number;
}

export interface DagSpec {
  shape: 'chain' | 'fanout' | 'diamond';
  source: { partitions: number; perWindow: number; keys: number; batch: number };
  head: StageSpec[];
  branchA: StageSpec[];
  branchB: StageSpec[];
  join: { partitions: number };
  tail: StageSpec[];
  sinkPartitions: number;
}

const stageArb: fc.Arbitrary<StageSpec> = fc.record({
  kind: fc.constantFrom<StageKind>('map', 'filter', 'runningSum', 'windowAggregate'),
  // Mostly small: each partition is an actor, and the suite's run time grows with them.
  partitions: fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 1, max: 4 }) },
    { weight: 1, arbitrary: fc.integer({ min: 5, max: 8 }) },
  ),
  link: fc.constantFrom<Link>('keyed', 'keyed', 'roundRobin', 'parallel', 'thread'),
  locality: fc.constantFrom<QueuedLocality>('any', 'any', 'container', 'node'),
  unifier: fc.constantFrom<UnifierKind>('default', 'default', 'default', 'counting'),
  unifierLimit: fc.oneof(
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) },
    { weight: 1, arbitrary: fc.constant(16) },
  ),
  a: fc.integer({ min: 1, max: 97 }),
  b: fc.integer({ min: 0, max: 97 }),
});

const stagesArb = (max: number) => fc.array(stageArb, { maxLength: max });

export const dagSpecArb: fc.Arbitrary<DagSpec> = fc.record({
  shape: fc.constantFrom<DagSpec['shape']>('chain', 'fanout', 'diamond'),
  source: fc.record({
    partitions: fc.integer({ min: 1, max: 2 }),
    perWindow: fc.integer({ min: 0, max: 24 }),
    keys: fc.integer({ min: 1, max: 6 }),
    batch: fc.integer({ min: 1, max: 8 }),
  }),
  head: stagesArb(3),
  branchA: stagesArb(2),
  branchB: stagesArb(2),
  join: fc.record({ partitions: fc.integer({ min: 1, max: 4 }) }),
  tail: stagesArb(2),
  sinkPartitions: fc.integer({ min: 1, max: 2 }),
});

export function buildApp(spec: DagSpec): Application {
  return application('property', (dag) => {
    let n = 0;
    const next = (prefix: string) => `${prefix}${n++}`;
    const connect = (
      from: OutputHandle<Tuple>,
      to: InputHandle<Tuple> | InputHandle<Tuple>[],
      link: Link,
      locality: QueuedLocality = 'any',
    ) => {
      const s = dag.stream(next('s'), from, to);
      if (link === 'thread') {
        s.locality('thread');
        return;
      }
      s.locality(locality);
      if (link === 'keyed') s.keyBy((t) => t.k);
      else if (link === 'roundRobin') s.roundRobin();
      else s.parallel();
    };
    const chain = (from: OutputHandle<Tuple>, stages: StageSpec[]) => {
      for (const stage of stages) {
        const op = addStage(dag, next(stage.kind), stage);
        connect(from, op.in, stage.link, stage.locality);
        from = op.out;
      }
      return from;
    };
    const sink = (from: OutputHandle<Tuple>) => {
      const s = dag.add(
        next('sink'),
        CollectSink<Tuple>,
        { into: new Collected<Tuple>() },
        {
          partitions: spec.sinkPartitions,
        },
      );
      connect(from, s.in, 'keyed');
    };
    const src = dag.add('src', KeyedSource, spec.source, { partitions: spec.source.partitions });
    const head = chain(src.out, spec.head);
    if (spec.shape === 'chain') return sink(head);
    // One stream fans out from the head to the first stage of each non-empty branch.
    const branches = [spec.branchA, spec.branchB];
    const firsts = branches.map((br) => (br[0] ? addStage(dag, next(br[0].kind), br[0]) : undefined));
    const fanned = firsts.flatMap((op) => (op ? [op.in] : []));
    if (fanned.length > 0) connect(head, fanned, 'keyed', spec.branchA[0]?.locality);
    const [a, b] = branches.map((br, i) => (firsts[i] ? chain(firsts[i].out, br.slice(1)) : head)) as [
      OutputHandle<Tuple>,
      OutputHandle<Tuple>,
    ];
    if (spec.shape === 'fanout') {
      sink(a);
      sink(b);
      return;
    }
    const join = dag.add(next('join'), JoinStage, undefined, { partitions: spec.join.partitions });
    connect(a, join.a, 'keyed');
    connect(b, join.b, 'keyed');
    sink(chain(join.out, spec.tail));
  });
}

function addStage(dag: DagBuilder, name: string, s: StageSpec) {
  // Some stages aggregate over application windows of 2–3 streaming windows (checkpoints then fall inside
  // an application window), and some merge their partitions with a stateful unifier.
  const partitioned = s.link === 'keyed' || s.link === 'roundRobin' ? { partitions: s.partitions } : {};
  const attrs = {
    ...partitioned,
    ...(s.kind === 'windowAggregate' && s.b % 3 !== 0 ? { applicationWindowCount: (s.b % 3) + 1 } : {}),
    ...(s.unifier === 'counting' ? { unifier: CountingUnifier } : {}),
    unifierLimit: s.unifierLimit,
  };
  switch (s.kind) {
    case 'map':
      return dag.add(name, MapStage, { a: s.a, b: s.b }, attrs);
    case 'filter':
      return dag.add(name, FilterStage, { m: (s.a % 5) + 2 }, attrs);
    case 'runningSum':
      return dag.add(name, RunningSumStage, undefined, attrs);
    case 'windowAggregate':
      return dag.add(name, WindowAggregateStage, { async: s.b % 2 === 1 }, attrs);
  }
}
