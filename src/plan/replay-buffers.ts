import { Operator } from '../api/operator.ts';
import type { PhysicalPlan } from './physical-plan.ts';

/**
 * With `replayFrom: 'buffers'`, which queued channels keep a replay buffer: those behind an operator that
 * keeps durable state (its class overrides Operator's `initialState`), and those of an input operator
 * that feeds more than one actor. What the others carry can be had again for less than encoding and
 * keeping it all:
 * - an operator without durable state is re-run from its own input's buffer (GenerateDimensions-like
 *   stages multiply their input: the case study's mailbox pipeline encoded 21 M tuples a run, 17 M of
 *   them dimension tuples);
 * - an input operator with one consumer replays from its window log and its restored source offset, as
 *   it does on every relaunch (encoding what it emits cost the mailbox stand-in ~20 % of its throughput).
 *   With several consumers it keeps its buffers: re-reading would rebuild every consumer (every
 *   partition of the next stage) for the failure of one.
 * So a recovery takes such a producer along with its consumer (`recoveryScope`: recomputing, not
 * restarted), restored from its checkpoint and replayed like any recovered actor: correctness never
 * depends on this choice, only what a recovery redoes.
 */
export function unbufferedChannels(plan: PhysicalPlan): Set<number> {
  const consumers = new Map<string, number>();
  for (const ch of plan.channels) consumers.set(ch.from.actor, (consumers.get(ch.from.actor) ?? 0) + 1);
  const recomputable = new Set(
    plan.actors
      .filter((a) =>
        a.isInput
          ? consumers.get(a.id) === 1
          : a.cls.prototype.initialState === Operator.prototype.initialState,
      )
      .map((a) => a.id),
  );
  const ids = new Set<number>();
  for (const ch of plan.channels) if (!ch.fused && recomputable.has(ch.from.actor)) ids.add(ch.id);
  return ids;
}
