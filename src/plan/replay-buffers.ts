import { Operator } from '../api/operator.ts';
import type { PhysicalPlan } from './physical-plan.ts';

/**
 * With `replayFrom: 'buffers'`, which queued channels keep a replay buffer: all but those behind an
 * operator that keeps no durable state (its class keeps Operator's `initialState`, not an input).
 * Re-running such an operator from its own input's buffer costs less than encoding and keeping all it
 * emits (GenerateDimensions-like stages multiply their input: the case study's mailbox pipeline
 * encoded 21 M tuples a run, 17 M of them dimension tuples). So a recovery takes it along with its
 * consumer (`recoverySet`), restored from its checkpoint and replayed like any recovered actor:
 * correctness never depends on this choice, only what a recovery redoes. Input operators' streams keep
 * their buffers, so a recovery does not read the source again (as Apex's buffer server).
 */
export function unbufferedChannels(plan: PhysicalPlan): Set<number> {
  const stateless = new Set(
    plan.actors
      .filter((a) => !a.isInput && a.cls.prototype.initialState === Operator.prototype.initialState)
      .map((a) => a.id),
  );
  const ids = new Set<number>();
  for (const ch of plan.channels) if (!ch.fused && stateless.has(ch.from.actor)) ids.add(ch.id);
  return ids;
}
