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
