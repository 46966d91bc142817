import type { Actor } from './actor.ts';
import { InputActor } from './input-actor.ts';
import { OperatorActor } from './operator-actor.ts';
import type { OperatorStats } from './status.ts';

/** What run.stats() says of each actor (the one-thread runtime's and each container's). */
export function operatorStats(actors: readonly Actor[]): OperatorStats[] {
  return actors.map((a) => {
    const s: OperatorStats = {
      actorId: a.id,
      operator: a.plan.operator,
      tuples: a instanceof InputActor ? a.emitted : a.tuplesIn,
      queued: a instanceof OperatorActor ? a.queuedBatches : 0,
      window: a.lastEnded,
    };
    if (a instanceof InputActor && a.inWindow && !a.replaying && a.holding) s.holding = a.window;
    return s;
  });
}
