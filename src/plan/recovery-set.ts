import type { PhysicalPlan } from './physical-plan.ts';

/**
 * OTP's rest_for_one along the DAG: the failed actor, the actors fused into the same thread upstream of
 * it (they share its call stack, so they share its fate), and everything downstream of those.
 */
export function recoverySet(plan: PhysicalPlan, failed: Iterable<string>): Set<string> {
  const set = new Set<string>();
  const fusedUpstream = new Map<string, string>();
  const downstream = new Map<string, string[]>();
  for (const ch of plan.channels) {
    if (ch.fused) fusedUpstream.set(ch.to.actor, ch.from.actor);
    const list = downstream.get(ch.from.actor) ?? [];
    list.push(ch.to.actor);
    downstream.set(ch.from.actor, list);
  }
  const roots: string[] = [];
  for (let id of failed) {
    roots.push(id);
    while (fusedUpstream.has(id)) {
      id = fusedUpstream.get(id)!;
      roots.push(id);
    }
  }
  const stack = roots;
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (set.has(id)) continue;
    set.add(id);
    for (const next of downstream.get(id) ?? []) stack.push(next);
  }
  return set;
}
