import type { PhysicalPlan } from './physical-plan.ts';
import { unbufferedChannels } from './replay-buffers.ts';

/** What a recovery rebuilds: who restarts, and who is rebuilt only to recompute what they feed it. */
export interface RecoveryScope {
  /** The failed actors, the actors fused upstream of them, and everything downstream of those. */
  readonly restarted: Set<string>;
  /**
   * With `replayFrom: 'buffers'`: the producers of the set's streams that keep no buffer (input operators
   * and operators without durable state, replay-buffers.ts), transitively, and what else they feed.
   * They did not fail; they are restored at the recovery window to emit again what the set needs.
   */
  readonly recomputing: Set<string>;
}

/**
 * OTP's rest_for_one along the DAG: the failed actor, the actors fused into the same thread upstream of
 * it (they share its call stack, so they share its fate), and everything downstream of those. With
 * `replayFrom: 'buffers'`, any actor in the set also takes the producers of its streams that keep no
 * buffer, and everything they feed: they are replayed from their own inputs' buffers, or (input
 * operators) from their window logs. recoveryScope tells those apart from the restarted actors.
 */
export function recoverySet(
  plan: PhysicalPlan,
  failed: Iterable<string>,
  replayFrom: 'buffers' | 'sources' = 'sources',
): Set<string> {
  const { restarted, recomputing } = recoveryScope(plan, failed, replayFrom);
  return new Set([...restarted, ...recomputing]);
}

export function recoveryScope(
  plan: PhysicalPlan,
  failed: Iterable<string>,
  replayFrom: 'buffers' | 'sources' = 'sources',
): RecoveryScope {
  const unbuffered = replayFrom === 'buffers' ? unbufferedChannels(plan) : new Set<number>();
  const fusedUpstream = new Map<string, string>();
  const unbufferedUpstream = new Map<string, string[]>();
  const downstream = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, key: string, value: string) => {
    const list = m.get(key) ?? [];
    list.push(value);
    m.set(key, list);
  };
  for (const ch of plan.channels) {
    if (ch.fused) fusedUpstream.set(ch.to.actor, ch.from.actor);
    if (unbuffered.has(ch.id)) add(unbufferedUpstream, ch.to.actor, ch.from.actor);
    add(downstream, ch.from.actor, ch.to.actor);
  }
  const start: string[] = [];
  for (let id of failed) {
    start.push(id);
    while (fusedUpstream.has(id)) {
      id = fusedUpstream.get(id)!;
      start.push(id);
    }
  }
  const closure = (seeds: Iterable<string>, pullUnbuffered: boolean): Set<string> => {
    const stack = [...seeds];
    const set = new Set<string>();
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (set.has(id)) continue;
      set.add(id);
      stack.push(...(downstream.get(id) ?? []));
      if (pullUnbuffered) stack.push(...(unbufferedUpstream.get(id) ?? []));
      // With buffers, a fused upstream of any actor in the set shares its call stack and replays nothing
      // into it: it is rebuilt too. (Without buffers every other actor replays from the same checkpoint.)
      const up = fusedUpstream.get(id);
      if (replayFrom === 'buffers' && up !== undefined) stack.push(up);
    }
    return set;
  };
  const restarted = closure(start, false);
  const everything = closure(start, true);
  return { restarted, recomputing: new Set([...everything].filter((id) => !restarted.has(id))) };
}
