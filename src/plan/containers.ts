/**
 * Placement: which container (worker thread) hosts each actor of a physical plan.
 *
 * - `thread` and `container` streams keep both ends in one container: the actors they join form a
 *   group (union-find over those channels), and a group is placed whole.
 * - `node` and `any` streams may cross containers.
 * - The partitions of a stage are spread: groups are placed in topological order, each on the container
 *   holding the fewest partitions of the group's stages, then the least load, then the next in
 *   round-robin order — so 4 partitions on 2 containers go 2 and 2, and equal loads rotate.
 * - A group made of unifiers only is placed with its downstream: a unifier merges for that actor, so
 *   its output crosses no container boundary (and a cascade's layers follow their root).
 * - A terminal group (no stream out of it: a sink, or a chain ending in sinks) whose inputs all come
 *   from one container goes there, so its records are never encoded for a port — unless a container
 *   is still empty (spreading work first: an application of one source and one sink still uses 2
 *   containers) or following would crowd a stage's partitions. The case study's Average emits one
 *   record per key at each application window's end; sent across, their encoding held up the run.
 */
import { SluiceError } from '../core/errors.ts';
import type { ActorPlan, ChannelPlan, PhysicalPlan } from './physical-plan.ts';

/** How a channel moves its batches once placed. */
export type Transport = 'fused' | 'mailbox' | 'message-port';

/** A container count that is not an integer ≥ 1. */
export class ContainerCountError extends SluiceError {
  constructor(readonly containers: number) {
    super('SLUICE_CONTAINERS', `containers must be an integer ≥ 1, not ${containers}`);
  }
}

/** A copy of `plan` whose every actor has a `container` in [0, containers). */
export function assignContainers(plan: PhysicalPlan, containers: number): PhysicalPlan {
  if (!Number.isSafeInteger(containers) || containers < 1) {
    throw new ContainerCountError(containers);
  }
  const placed = place(plan, containers);
  return { ...plan, actors: plan.actors.map((a) => ({ ...a, container: placed.get(a.id)! })) };
}

/** The container of an actor (0 when the plan was not placed: everything in one thread). */
export function containerOf(actor: ActorPlan): number {
  return actor.container ?? 0;
}

/** `fused` for thread-local channels, `mailbox` within a container, `message-port` across containers. */
export function channelTransport(plan: PhysicalPlan, channel: ChannelPlan): Transport {
  if (channel.fused) return 'fused';
  const byId = actorsById(plan);
  const from = containerOf(byId.get(channel.from.actor)!);
  const to = containerOf(byId.get(channel.to.actor)!);
  return from === to ? 'mailbox' : 'message-port';
}

function place(plan: PhysicalPlan, containers: number): Map<string, number> {
  const index = new Map(plan.actors.map((a, i) => [a.id, i]));
  const groups = new UnionFind(plan.actors.length);
  for (const ch of plan.channels) {
    if (ch.fused || ch.locality === 'thread' || ch.locality === 'container')
      groups.union(index.get(ch.from.actor)!, index.get(ch.to.actor)!);
  }
  // Members of each group, groups in the topological order of their first actor.
  const members = new Map<number, ActorPlan[]>();
  plan.actors.forEach((a, i) => {
    const root = groups.find(i);
    const list = members.get(root);
    if (list === undefined) members.set(root, [a]);
    else list.push(a);
  });

  const result = new Map<string, number>();
  const load = new Array<number>(containers).fill(0);
  // per container: how many partitions of each operator (stage) it holds
  const stages = Array.from({ length: containers }, () => new Map<string, number>());
  let cursor = 0;
  const unifierOnly: ActorPlan[][] = [];
  const groupOf = (id: string) => groups.find(index.get(id)!);
  // Per group, the streams that cross its border, in plan order (looked up per group, not scanned).
  const border = new Map<number, ChannelPlan[]>();
  for (const ch of plan.channels) {
    const from = groupOf(ch.from.actor);
    const to = groupOf(ch.to.actor);
    if (from === to) continue;
    for (const g of [from, to]) {
      const list = border.get(g);
      if (list === undefined) border.set(g, [ch]);
      else list.push(ch);
    }
  }
  for (const [root, group] of members) {
    if (group.every((a) => a.kind === 'unifier')) {
      unifierOnly.push(group);
      continue;
    }
    const ops = group.filter((a) => a.kind === 'operator').map((a) => a.operator);
    let best = -1;
    let bestKey: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    for (let k = 0; k < containers; k++) {
      const c = (cursor + k) % containers;
      const crowding = ops.reduce((sum, op) => sum + (stages[c]!.get(op) ?? 0), 0);
      const key: [number, number] = [crowding, load[c]!];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = c;
        bestKey = key;
      }
    }
    const follow = upstreamContainer(border.get(root) ?? [], root, groupOf, result);
    if (follow !== undefined && load.every((l) => l > 0)) {
      const crowding = ops.reduce((sum, op) => sum + (stages[follow]!.get(op) ?? 0), 0);
      if (crowding <= bestKey[0]) best = follow;
    }
    for (const a of group) result.set(a.id, best);
    for (const op of ops) stages[best]!.set(op, (stages[best]!.get(op) ?? 0) + 1);
    load[best]! += group.length;
    cursor = (best + 1) % containers;
  }

  // Unifier-only groups go where their downstream is; walked from the sinks' side so a cascade's lower
  // layers find their upper layer already placed.
  const downstream = new Map<string, string>();
  for (const ch of plan.channels) downstream.set(ch.from.actor, ch.to.actor);
  const containerOfActor = (id: string, seen = new Set<string>()): number => {
    const known = result.get(id);
    if (known !== undefined) return known;
    const next = downstream.get(id);
    if (next === undefined || seen.has(id)) return 0;
    seen.add(id);
    return containerOfActor(next, seen);
  };
  for (const group of unifierOnly) {
    const c = containerOfActor(group[group.length - 1]!.id);
    for (const a of group) result.set(a.id, c);
    load[c]! += group.length;
  }
  return result;
}

/**
 * The one container every stream into the group `root` comes from, when the group is terminal (no
 * stream leaves it) and all its upstream actors are placed; otherwise undefined.
 */
function upstreamContainer(
  border: readonly ChannelPlan[],
  root: number,
  groupOf: (id: string) => number,
  placed: ReadonlyMap<string, number>,
): number | undefined {
  let from: number | undefined;
  for (const ch of border) {
    if (groupOf(ch.from.actor) === root) return undefined; // a stream leaves the group: not terminal
    const c = placed.get(ch.from.actor);
    if (c === undefined || (from !== undefined && from !== c)) return undefined;
    from = c;
  }
  return from;
}

/** Built once per plan: `channelTransport` is asked for every channel of a plan. */
const byIdOf = new WeakMap<PhysicalPlan, Map<string, ActorPlan>>();

function actorsById(plan: PhysicalPlan): Map<string, ActorPlan> {
  let byId = byIdOf.get(plan);
  if (byId === undefined) byIdOf.set(plan, (byId = new Map(plan.actors.map((a) => [a.id, a]))));
  return byId;
}

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root]!;
    while (this.parent[i] !== root) {
      const next = this.parent[i]!;
      this.parent[i] = root;
      i = next;
    }
    return root;
  }
  /** Joins two groups; the smaller index stays the root so groups keep their topological order. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }
}
