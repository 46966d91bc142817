import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { containerOf } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';

/** A queued channel whose producer and consumer are in different containers. */
export interface CrossLink {
  readonly channel: number;
  readonly from: number;
  readonly to: number;
}

export type PortsOf = { out: Record<number, MessagePort>; in: Record<number, MessagePort> };

export function crossLinks(plan: PhysicalPlan): CrossLink[] {
  const byId = new Map(plan.actors.map((a) => [a.id, a]));
  const links: CrossLink[] = [];
  for (const ch of plan.channels) {
    if (ch.fused) continue;
    const from = containerOf(byId.get(ch.from.actor)!);
    const to = containerOf(byId.get(ch.to.actor)!);
    if (from !== to) links.push({ channel: ch.id, from, to });
  }
  return links;
}

/**
 * A MessagePort pair for each link that touches one of `containers` (all of them at a launch). The ends
 * for containers outside the set — live producers feeding a replaced consumer — are returned as `rewire`.
 */
export function connect(
  links: readonly CrossLink[],
  count: number,
  containers: ReadonlySet<number>,
): { ports: PortsOf[]; rewire: { container: number; channel: number; port: MessagePort }[] } {
  const ports = Array.from({ length: count }, () => ({ out: {}, in: {} }) as PortsOf);
  const rewire: { container: number; channel: number; port: MessagePort }[] = [];
  for (const link of links) {
    if (!containers.has(link.from) && !containers.has(link.to)) continue;
    const pair = new MessageChannel();
    if (containers.has(link.from)) ports[link.from]!.out[link.channel] = pair.port1;
    else rewire.push({ container: link.from, channel: link.channel, port: pair.port1 });
    // A consumer outside the set would be downstream of it: downstreamClosure keeps that from happening.
    if (containers.has(link.to)) ports[link.to]!.in[link.channel] = pair.port2;
  }
  return { ports, rewire };
}

/** `start` and every container downstream of it: what a replacement of `start` must restart too. */
export function downstreamClosure(links: readonly CrossLink[], start: Iterable<number>): Set<number> {
  const set = new Set(start);
  const stack = [...set];
  while (stack.length > 0) {
    const c = stack.pop()!;
    for (const link of links) {
      if (link.from === c && !set.has(link.to)) {
        set.add(link.to);
        stack.push(link.to);
      }
    }
  }
  return set;
}
