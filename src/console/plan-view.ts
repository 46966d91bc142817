/** The physical plan as the page draws it: plain data, with the ports a tap can open. */
import { groupOf } from '../metrics/aggregate.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';

export interface PlanView {
  application: string;
  actors: {
    id: string;
    operator: string;
    /** The operator's node in a collapsed view (unifiers apart: `op:unifier`). */
    group: string;
    kind: 'input' | 'operator' | 'unifier';
    partition: number;
    partitions: number;
    container: number | null;
  }[];
  channels: { id: number; stream: string; from: string; to: string; fused: boolean }[];
  /** OPERATOR.PORT names a tap can open (queued streams only). */
  ports: string[];
}

export function planView(plan: PhysicalPlan): PlanView {
  const group = new Map(plan.actors.map((a) => [a.id, groupOf(a)]));
  const ports = new Set<string>();
  for (const c of plan.channels) {
    if (c.fused) continue;
    ports.add(`${group.get(c.from.actor)}.${c.from.port}`);
    ports.add(`${group.get(c.to.actor)}.${c.to.port}`);
  }
  return {
    application: plan.applicationName,
    actors: plan.actors.map((a) => ({
      id: a.id,
      operator: a.operator,
      group: group.get(a.id)!,
      kind: a.isInput ? 'input' : a.kind,
      partition: a.partition,
      partitions: a.partitions,
      container: a.container ?? null,
    })),
    channels: plan.channels.map((c) => ({
      id: c.id,
      stream: c.stream,
      from: c.from.actor,
      to: c.to.actor,
      fused: c.fused,
    })),
    ports: [...ports].sort(),
  };
}
