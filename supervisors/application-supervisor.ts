import type { OperatorFailure } from '../src/engine/failure.ts';
import type { FailureDecision, Supervision, SupervisionConfig } from '../src/engine/supervision.ts';
import type { PhysicalPlan } from '../src/plan/physical-plan.ts';
import { CommitTracker } from './commit-tracker.ts';
import { recoveryScope } from './recovery-set.ts';
import { backoffDelay, RestartIntensity, RestartStrategy } from './restart-strategy.ts';

/**
 * The top of the supervision tree for an application in one process (Apex's application master):
 * tracks commits and answers every actor failure with a recovery of its set, until the restart
 * intensity is exceeded and the failure escalates.
 */
export class ApplicationSupervisor implements Supervision {
  private tracker = new CommitTracker([], 0);
  private plan: PhysicalPlan | undefined;
  private readonly intensity: RestartIntensity;

  constructor(
    private readonly strategy: RestartStrategy = RestartStrategy.restart(),
    private readonly config: SupervisionConfig = { checkpointing: true, replayFrom: 'buffers' },
  ) {
    this.intensity = new RestartIntensity(strategy);
  }

  start(plan: PhysicalPlan, restoredWindow: number): void {
    this.plan = plan;
    this.tracker = new CommitTracker(
      plan.actors.map((a) => a.id),
      restoredWindow,
    );
  }

  get committedWindow(): number {
    return this.tracker.committed;
  }

  checkpointed(actorId: string, window: number): number | undefined {
    return this.tracker.record(actorId, window);
  }

  failed(failure: OperatorFailure, nowMs: number, unfinished: readonly string[] = []): FailureDecision {
    if (!this.plan) return { action: 'escalate', reason: 'the application had not started' };
    if (!failure.restartable) return { action: 'escalate', reason: 'restarting cannot fix it' };
    if (!this.config.checkpointing)
      return { action: 'escalate', reason: 'checkpointing is off, so nothing can be replayed' };
    // A failed setup() is restarted like any other failure (a resource that was not ready yet): the restart
    // intensity bounds one that always fails. Teardown only runs when the application stops.
    if (failure.phase === 'teardown') return { action: 'escalate', reason: 'teardown failed' };
    const attempt = this.intensity.admit(nowMs, this.tracker.committed);
    if (attempt === undefined) {
      return { action: 'escalate', reason: this.intensity.refusal };
    }
    // The recovery set is the failed actors and what is downstream of them. Without buffers, every other
    // actor is rebuilt at the same checkpoint too, to recompute the windows the set needs again (the
    // input operators replay from their window logs): streams are deterministic, so they end up where
    // they were.
    // With buffers, the producers of unbuffered streams in front of the set are rebuilt to recompute.
    const scope = recoveryScope(this.plan, [failure.actorId, ...unfinished], this.config.replayFrom);
    const actors = scope.restarted;
    const replaying =
      this.config.replayFrom === 'sources'
        ? this.plan.actors.filter((a) => !actors.has(a.id)).map((a) => a.id)
        : [...scope.recomputing];
    return {
      action: 'restart',
      actors: [...actors],
      replaying,
      window: this.tracker.newestCommon([...actors, ...replaying]),
      delayMs: backoffDelay(this.strategy.backoff, attempt),
      attempt,
    };
  }
}
