/**
 * The engine seen by the metrics collector (src/metrics/source.ts): the live actors and channels of an
 * ActorGraph. Read between windows and by the collector's timer, never on the path of a tuple.
 */
import type { MetricsSource, SourceActor } from '../metrics/source.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { Actor } from './actor.ts';
import type { ActorGraph } from './actor-graph.ts';
import { InputActor } from './input-actor.ts';
import { OperatorActor } from './operator-actor.ts';

export function metricsSource(
  plan: PhysicalPlan,
  graph: ActorGraph,
  windows: { liveWindow(): number; doneWindow(): number; committed(): number },
): MetricsSource {
  const views = new WeakMap<Actor, SourceActor>();
  const view = (a: Actor): SourceActor => {
    let v = views.get(a);
    if (v === undefined) views.set(a, (v = actorView(a)));
    return v;
  };
  return {
    plan,
    actors: () => graph.actors.map(view),
    channel: (id) => graph.channels.get(id),
    fusedTuples: (id) => graph.fusedCounts.get(id)?.tuples,
    ...windows,
  };
}

function actorView(a: Actor): SourceActor {
  const op = a instanceof OperatorActor ? a : undefined;
  return {
    id: a.id,
    operator: a.operator,
    get lastEnded() {
      return a.lastEnded;
    },
    mailbox: () => op?.queuedBatches ?? 0,
    // Has work (an input operator inside a window, an actor with a batch to read) and may not do it.
    blocked: () =>
      !a.disposed && !a.busy && (op ? op.ready : a instanceof InputActor && a.inWindow) && !a.gateOpen(),
  };
}
