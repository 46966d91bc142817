import type { Operator, OperatorClass } from '../api/operator.ts';
import { PassThroughUnifier } from '../api/unifier.ts';
import { DEFAULT_UNIFIER_LIMIT } from '../dag/attributes.ts';
import { DagError } from '../dag/errors.ts';
import {
  discoverPorts,
  type LogicalDag,
  type LogicalOperator,
  type LogicalStream,
} from '../dag/logical-dag.ts';
import { topologicalOrder } from '../dag/validate.ts';
import {
  type ActorPlan,
  type ChannelPlan,
  type PhysicalPlan,
  type RoutePlan,
  UNIFIER_ID_MARK,
} from './physical-plan.ts';
import { unifierLayers } from './unifier-tree.ts';

/** Turns the logical DAG into actors and channels: partitions, routes, unifier trees, fused edges. */
export function planPhysical(dag: LogicalDag): PhysicalPlan {
  const order = topologicalOrder(dag);
  const partitions = resolvePartitions(dag, order);
  const actors = new Map<string, ActorPlan>();
  const channels: ChannelPlan[] = [];
  const unifiers: ActorPlan[] = [];
  const localities = new Map(dag.streams.map((s) => [s.name, s.locality]));

  for (const op of order) {
    const n = partitions.get(op.name)!;
    for (let i = 0; i < n; i++) {
      const taken = actors.get(actorId(op.name, i, n));
      if (taken) throw sameActorId(actorId(op.name, i, n), `operator "${op.name}"`, taken.operator);
      actors.set(actorId(op.name, i, n), {
        id: actorId(op.name, i, n),
        operator: op.name,
        kind: 'operator',
        partition: i,
        partitions: n,
        cls: op.cls,
        props: op.props,
        isInput: op.isInput,
        applicationWindowCount: op.attrs.applicationWindowCount ?? 1,
        inputs: [],
        outputs: new Map(op.outputPorts.map((p) => [p, []])),
      });
    }
  }

  const connect = (
    stream: string,
    from: ActorPlan,
    fromPort: string,
    to: ActorPlan,
    toPort: string,
    fused: boolean,
  ) => {
    const ch: ChannelPlan = {
      id: channels.length,
      stream,
      from: { actor: from.id, port: fromPort },
      to: { actor: to.id, port: toPort },
      fused,
      locality: localities.get(stream) ?? 'any',
    };
    channels.push(ch);
    to.inputs.push(ch);
    return ch.id;
  };

  for (const stream of dag.streams) {
    const up = dag.operators.get(stream.from.operator)!;
    const n = partitions.get(up.name)!;
    const ups = range(n).map((i) => actors.get(actorId(up.name, i, n))!);
    for (const sink of stream.to) {
      const down = dag.operators.get(sink.operator)!;
      const m = partitions.get(down.name)!;
      const downs = range(m).map((j) => actors.get(actorId(down.name, j, m))!);
      const fused = stream.locality === 'thread';
      if (fused || stream.distribution.kind === 'parallel') {
        for (let i = 0; i < n; i++) {
          const ch = connect(stream.name, ups[i]!, stream.from.port, downs[i]!, sink.port, fused);
          ups[i]!.outputs.get(stream.from.port)!.push({ kind: 'single', channel: ch });
        }
        continue;
      }
      // target[i][j]: the channel by which upstream partition i reaches downstream partition j
      const target: number[][] = range(n).map(() => []);
      const unifierClass = up.attrs.unifier;
      for (let j = 0; j < m; j++) {
        if (n > 1 && (m === 1 || unifierClass !== undefined)) {
          const suffix = stream.to.length > 1 ? `>${down.name}` : '';
          const baseId = `${stream.name}${suffix}${UNIFIER_ID_MARK}${m > 1 ? `#${j}` : ''}`;
          const tree = buildUnifierTree(baseId, up, unifierClass ?? PassThroughUnifier, n, stream.name);
          for (const u of tree.actors) unifiers.push(u);
          for (const [leaf, inputs] of tree.leaves) {
            for (const i of inputs)
              target[i]![j] = connect(stream.name, ups[i]!, stream.from.port, leaf, tree.inPort, false);
          }
          for (const [from, to] of tree.edges) {
            from.outputs.get(tree.outPort)!.push({
              kind: 'single',
              channel: connect(stream.name, from, tree.outPort, to, tree.inPort, false),
            });
          }
          tree.root.outputs.get(tree.outPort)!.push({
            kind: 'single',
            channel: connect(stream.name, tree.root, tree.outPort, downs[j]!, sink.port, false),
          });
        } else {
          for (let i = 0; i < n; i++)
            target[i]![j] = connect(stream.name, ups[i]!, stream.from.port, downs[j]!, sink.port, false);
        }
      }
      for (let i = 0; i < n; i++) ups[i]!.outputs.get(stream.from.port)!.push(route(stream, target[i]!));
    }
  }

  for (const u of unifiers) {
    const taken = actors.get(u.id);
    if (taken) throw sameActorId(u.id, `a unifier of operator "${u.operator}"`, taken.operator);
  }
  return {
    applicationName: dag.applicationName,
    actors: sortActors([...actors.values(), ...unifiers], channels),
    channels,
  };
}

/** Two actors would get one id (an operator named like another's partition, or like a stream's unifier). */
function sameActorId(id: string, one: string, operator: string): DagError {
  return new DagError(
    'SLUICE_DUPLICATE_NAME',
    `${one} and operator "${operator}" would both run as actor "${id}": rename one of them`,
    { operator },
  );
}

export function actorId(operator: string, partition: number, partitions: number): string {
  return partitions === 1 ? operator : `${operator}#${partition}`;
}

function route(stream: LogicalStream, channels: number[]): RoutePlan {
  if (channels.length === 1) return { kind: 'single', channel: channels[0]! };
  if (stream.distribution.kind === 'keyed')
    return { kind: 'keyed', keyOf: stream.distribution.keyOf, channels };
  return { kind: 'roundRobin', channels };
}

/** Partition counts: explicit, else inherited along parallel and thread-local streams, else 1. */
function resolvePartitions(dag: LogicalDag, order: LogicalOperator[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const op of order) {
    const inherits = dag.streams.filter(
      (s) =>
        s.to.some((t) => t.operator === op.name) &&
        (s.locality === 'thread' || s.distribution.kind === 'parallel'),
    );
    let n = op.attrs.partitions;
    for (const s of inherits) {
      const upstream = counts.get(s.from.operator)!;
      if (n === undefined) n = upstream;
      else if (n !== upstream) {
        throw new DagError(
          'SLUICE_PARTITIONING',
          `stream "${s.name}" is ${s.locality === 'thread' ? 'thread-local' : 'parallel'}, so "${op.name}" needs as many partitions as "${s.from.operator}" (${upstream}), not ${n}`,
          { stream: s.name, operator: op.name },
        );
      }
    }
    const threadLocal = inherits.filter((s) => s.locality === 'thread');
    const inputStreams = dag.streams.filter((s) => s.to.some((t) => t.operator === op.name));
    if (threadLocal.length > 0 && inputStreams.length > 1) {
      throw new DagError(
        'SLUICE_LOCALITY',
        `stream "${threadLocal[0]!.name}" is thread-local, but "${op.name}" has ${inputStreams.length} input streams; a fused operator reads one stream only`,
        { stream: threadLocal[0]!.name, operator: op.name },
      );
    }
    counts.set(op.name, n ?? 1);
  }
  return counts;
}

interface UnifierTree {
  actors: ActorPlan[];
  root: ActorPlan;
  inPort: string;
  outPort: string;
  /** Leaf unifier → the upstream partitions it reads. */
  leaves: Map<ActorPlan, number[]>;
  edges: [ActorPlan, ActorPlan][];
}

function buildUnifierTree(
  baseId: string,
  up: LogicalOperator,
  cls: OperatorClass<Operator<any, any>>,
  n: number,
  stream: string,
): UnifierTree {
  const ports = discoverPorts(new cls(undefined));
  if (ports.inputs.length !== 1 || ports.outputs.length !== 1) {
    throw new DagError(
      'SLUICE_INVALID_ATTRIBUTE',
      `operator "${up.name}": its unifier ${cls.name} must have exactly one input and one output port`,
      { operator: up.name, stream },
    );
  }
  const layers = unifierLayers(n, up.attrs.unifierLimit ?? DEFAULT_UNIFIER_LIMIT);
  const make = (layer: number, k: number, count: number): ActorPlan => ({
    id: layers.length === 1 ? baseId : `${baseId}[${layer}.${k}]`,
    operator: up.name,
    kind: 'unifier',
    partition: k,
    partitions: count,
    cls,
    props: undefined,
    isInput: false,
    applicationWindowCount: 1,
    inputs: [],
    outputs: new Map([[ports.outputs[0]!, []]]),
  });
  const built = layers.map((groups, layer) => groups.map((_, k) => make(layer, k, groups.length)));
  const leaves = new Map<ActorPlan, number[]>(layers[0]!.map((inputs, k) => [built[0]![k]!, inputs]));
  const edges: [ActorPlan, ActorPlan][] = [];
  for (let layer = 1; layer < layers.length; layer++) {
    layers[layer]!.forEach((inputs, k) => {
      for (const i of inputs) edges.push([built[layer - 1]![i]!, built[layer]![k]!]);
    });
  }
  return {
    actors: built.flat(),
    root: built[built.length - 1]![0]!,
    inPort: ports.inputs[0]!,
    outPort: ports.outputs[0]!,
    leaves,
    edges,
  };
}

function sortActors(actors: ActorPlan[], channels: readonly ChannelPlan[]): ActorPlan[] {
  const byId = new Map(actors.map((a) => [a.id, a]));
  const indegree = new Map(actors.map((a) => [a.id, a.inputs.length]));
  // Each actor's channels out, in channel order: one pass over the channels, not one per actor (6,000
  // partitions took seconds to plan).
  const out = new Map<string, ChannelPlan[]>();
  for (const ch of channels) {
    const list = out.get(ch.from.actor);
    if (list) list.push(ch);
    else out.set(ch.from.actor, [ch]);
  }
  const order: ActorPlan[] = actors.filter((a) => a.inputs.length === 0);
  // `order` is also the queue (Kahn's algorithm): actors are appended when their last input is placed.
  for (let next = 0; next < order.length; next++) {
    for (const ch of out.get(order[next]!.id) ?? []) {
      const d = indegree.get(ch.to.actor)! - 1;
      indegree.set(ch.to.actor, d);
      if (d === 0) order.push(byId.get(ch.to.actor)!);
    }
  }
  return order;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
