/** What the console shows and drives: a run in this process, or an application on the cluster. */
import type { Run } from '../engine/run.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';

export interface ConsoleTarget {
  readonly plan: PhysicalPlan;
  readonly collector: Run['collector'];
  /** A failure drill: the actor fails as if its operator threw (false if there is no such actor). */
  failActor(actorId: string, reason: string): boolean;
}
