import type { NodeSlot } from './cluster-run.ts';

/**
 * Container c → node: the nodes' slots dealt in turn (first slot of every node, then the second…), so a
 * few containers spread over as many nodes as possible; past all the slots it wraps around (a cluster
 * that lost a node runs its containers doubled up on the survivors rather than not at all).
 */
export function place(containers: number, nodes: readonly NodeSlot[]): string[] {
  const order: string[] = [];
  const most = Math.max(0, ...nodes.map((n) => n.slots));
  for (let s = 0; s < most; s++) for (const n of nodes) if (s < n.slots) order.push(n.nodeId);
  if (order.length === 0) order.push(...nodes.map((n) => n.nodeId));
  return Array.from({ length: containers }, (_, c) => order[c % order.length]!);
}

/**
 * Where a partial restart puts the containers it replaces: each stays on its node if that node lives,
 * else goes to the live node with the most free slots (the earliest joined among equals), counting the
 * containers that stay.
 */
export function placeReplacements(
  current: readonly { readonly container: number; readonly node: string }[],
  replaced: ReadonlySet<number>,
  nodes: readonly NodeSlot[],
): Map<number, string> {
  const live = new Set(nodes.map((n) => n.nodeId));
  const load = new Map(nodes.map((n) => [n.nodeId, 0]));
  const stays = current.filter((p) => live.has(p.node));
  for (const p of stays) load.set(p.node, load.get(p.node)! + 1);
  const where = new Map<number, string>();
  for (const p of current) {
    if (!replaced.has(p.container) || live.has(p.node)) continue;
    let best = nodes[0]!;
    for (const n of nodes) if (n.slots - load.get(n.nodeId)! > best.slots - load.get(best.nodeId)!) best = n;
    where.set(p.container, best.nodeId);
    load.set(best.nodeId, load.get(best.nodeId)! + 1);
  }
  for (const p of stays) if (replaced.has(p.container)) where.set(p.container, p.node);
  return where;
}
