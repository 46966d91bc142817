import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { OperatorFailure } from './failure.ts';

/** What the supervision needs to know of the run's configuration. */
export interface SupervisionConfig {
  checkpointing: boolean;
  replayFrom: 'buffers' | 'sources';
}

export type FailureDecision =
  /**
   * Rebuild `actors` (the recovery set) from their snapshots at `window` after `delayMs`. `replaying`: the
   * other actors, rebuilt at `window` too only so that they recompute what their consumers in the set need
   * again (replay by recomputation, when streams keep no buffers); they did not fail and are not restarts.
   */
  | {
      action: 'restart';
      actors: readonly string[];
      replaying: readonly string[];
      window: number;
      delayMs: number;
      attempt: number;
    }
  /** Stop the application with this failure; every checkpoint is kept. */
  | { action: 'escalate'; reason: string };

/**
 * How the engine calls supervision (implemented in supervisors/, wired by the composition root), so the
 * engine never imports it: commit tracking and the decision what to do about a failed actor.
 */
export interface Supervision {
  /** Starts tracking this plan; `restoredWindow` is the window every actor was restored at. */
  start(plan: PhysicalPlan, restoredWindow: number): void;
  /** An actor's snapshot of `window` is durable. Returns the committed window when it advanced. */
  checkpointed(actorId: string, window: number): number | undefined;
  /** The newest window every actor has checkpointed. */
  readonly committedWindow: number;
  /**
   * What to do about a failed actor. `unfinished`: actors of a recovery that failed before it finished
   * (an operator's constructor threw): they must be in the new recovery set too.
   */
  failed(failure: OperatorFailure, nowMs: number, unfinished?: readonly string[]): FailureDecision;
}
