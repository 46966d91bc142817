/**
 * The unifier trees of a physical plan, read back from its actors and channels: for each place where
 * an operator's partitions merge into fewer instances, how many partitions and how many unifiers in
 * each layer (e.g. 256 partitions at a limit of 8: layers of 32, 4 and 1).
 */
import type { ActorPlan, PhysicalPlan } from '../plan/physical-plan.ts';

export interface UnifierTree {
  /** The operator whose partitions are merged. */
  operator: string;
  stream: string;
  /** The actor the root unifier feeds. */
  downstream: string;
  root: string;
  partitions: number;
  /** Unifier ids per layer, from the layer that reads the partitions to the root. */
  layers: string[][];
}

export function unifierTrees(plan: PhysicalPlan): UnifierTree[] {
  const byId = new Map(plan.actors.map((a) => [a.id, a]));
  const isUnifier = (id: string) => byId.get(id)?.kind === 'unifier';
  const trees: UnifierTree[] = [];
  for (const root of plan.actors) {
    if (root.kind !== 'unifier') continue;
    const out = plan.channels.find((c) => c.from.actor === root.id);
    if (out === undefined || isUnifier(out.to.actor)) continue;
    const layers: ActorPlan[][] = [];
    let layer = [root];
    while (layer.length > 0) {
      layers.unshift(layer);
      layer = layer.flatMap((u) =>
        u.inputs.filter((c) => isUnifier(c.from.actor)).map((c) => byId.get(c.from.actor)!),
      );
    }
    const partitions = layers[0]!.reduce((n, u) => n + u.inputs.length, 0);
    trees.push({
      operator: root.operator,
      stream: out.stream,
      downstream: out.to.actor,
      root: root.id,
      partitions,
      layers: layers.map((l) => l.map((u) => u.id)),
    });
  }
  return trees;
}
