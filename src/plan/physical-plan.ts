import type { Operator, OperatorClass } from '../api/operator.ts';
import type { Locality } from '../dag/attributes.ts';

/** A unifier's actor id is `STREAM[>TO]:unifier`, then `#j` per downstream partition, `[l.i]` per layer. */
export const UNIFIER_ID_MARK = ':unifier';

/** Whether an actor id names a unifier (the planner's ids: also for a failure rebuilt from a container's). */
export function isUnifierActorId(id: string): boolean {
  const at = id.lastIndexOf(UNIFIER_ID_MARK);
  return at >= 0 && /^(?:[[#]|$)/.test(id.slice(at + UNIFIER_ID_MARK.length));
}

/** One direction of data between two actors. `fused` channels are direct calls, never queued. */
export interface ChannelPlan {
  readonly id: number;
  readonly stream: string;
  readonly from: { readonly actor: string; readonly port: string };
  readonly to: { readonly actor: string; readonly port: string };
  readonly fused: boolean;
  /** The locality of the stream this channel carries (containers.ts keeps thread and container ends together). */
  readonly locality?: Locality;
}

/** How one output port reaches one sink of its stream. */
export type RoutePlan =
  | { readonly kind: 'single'; readonly channel: number }
  | { readonly kind: 'keyed'; readonly keyOf: (t: any) => unknown; readonly channels: readonly number[] }
  | { readonly kind: 'roundRobin'; readonly channels: readonly number[] };

export interface ActorPlan {
  readonly id: string;
  /** The logical operator (for unifiers: the upstream operator whose partitions they merge). */
  readonly operator: string;
  readonly kind: 'operator' | 'unifier';
  readonly partition: number;
  readonly partitions: number;
  readonly cls: OperatorClass<Operator<any, any>>;
  readonly props: unknown;
  readonly isInput: boolean;
  readonly applicationWindowCount: number;
  readonly inputs: ChannelPlan[];
  readonly outputs: Map<string, RoutePlan[]>;
  /** The container (worker thread) hosting this actor, set by assignContainers; absent means 0. */
  readonly container?: number;
}

export interface PhysicalPlan {
  readonly applicationName: string;
  /** Actors in topological order (every actor after all its upstreams). */
  readonly actors: readonly ActorPlan[];
  readonly channels: readonly ChannelPlan[];
}
