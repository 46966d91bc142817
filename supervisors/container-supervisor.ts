import type { ContainerFailure } from '../src/container/errors.ts';
import {
  type ContainerDecision,
  type ContainerSupervision,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
} from '../src/container/supervision.ts';
import type { OperatorFailure } from '../src/engine/failure.ts';
import { backoffDelay, RestartIntensity, RestartStrategy } from './restart-strategy.ts';

export { DEFAULT_HEARTBEAT_TIMEOUT_MS };

/**
 * Supervises the containers of an application (Apex's application master watching its containers): an
 * operator that failed inside a container, or a container whose worker exited, threw an uncaught error,
 * was terminated or stopped sending heartbeats, is answered by a restart of the containers from the
 * committed checkpoint — within the same restart intensity as actor failures, past which it escalates.
 */
export class ContainerSupervisor implements ContainerSupervision {
  private readonly intensity: RestartIntensity;

  constructor(
    private readonly strategy: RestartStrategy = RestartStrategy.restart(),
    readonly heartbeatTimeoutMs = DEFAULT_HEARTBEAT_TIMEOUT_MS,
  ) {
    this.intensity = new RestartIntensity(strategy);
  }

  failed(failure: OperatorFailure | ContainerFailure, nowMs: number, committed?: number): ContainerDecision {
    if ('restartable' in failure && !failure.restartable) {
      return { action: 'escalate', reason: 'restarting cannot fix it' };
    }
    if ('phase' in failure && failure.phase === 'teardown')
      return { action: 'escalate', reason: 'teardown failed' };
    const attempt = this.intensity.admit(nowMs, committed);
    if (attempt === undefined) {
      return { action: 'escalate', reason: this.intensity.refusal };
    }
    return { action: 'restart', delayMs: backoffDelay(this.strategy.backoff, attempt), attempt };
  }
}
