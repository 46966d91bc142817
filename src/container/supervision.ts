import { markNotRestarted, type OperatorFailure, STOPPING_REASON } from '../engine/failure.ts';
import type { ContainerFailure } from './errors.ts';

/**
 * Default heartbeat limit: a container silent this long is stuck (an endless loop in an operator). Not
 * less: on a loaded 2-core machine an application window's end (the case study's 78,336 records) kept a
 * worker busy for over 3 s, and a container replaced for that is replaced again at the next one.
 */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * The shortest heartbeat limit a container run takes: workers beat every sixth of it but at least 20 ms
 * apart, so a shorter one could only report false hangs.
 */
export const MIN_HEARTBEAT_TIMEOUT_MS = 200;

export type ContainerDecision =
  /** Restart every container from the committed checkpoint after `delayMs`. */
  | { action: 'restart'; delayMs: number; attempt: number }
  /** Stop the application with this failure; every checkpoint is kept. */
  | { action: 'escalate'; reason: string };

/**
 * How the container runtime asks supervision what to do (implemented in supervisors/container-supervisor.ts,
 * wired by the composition root, so src/ never imports supervisors/): an operator failed in a container,
 * or a container died or hung.
 */
export interface ContainerSupervision {
  /** A container silent for this long is hung (an endless synchronous loop): it is replaced. */
  readonly heartbeatTimeoutMs: number;
  /** `committed`: the application's committed window at the failure (restarts with no progress add up). */
  failed(failure: OperatorFailure | ContainerFailure, nowMs: number, committed?: number): ContainerDecision;
}

/**
 * What ContainerRun and ClusterRun do with a failure: the restart's attempt and backoff, or the failure
 * thrown, its message saying why it was not restarted (always so with checkpointing off: nothing to
 * replay, and once a stop was requested: see STOPPING_REASON).
 */
export function restartOrThrow(
  supervision: ContainerSupervision,
  failure: OperatorFailure | ContainerFailure,
  checkpointing: boolean,
  stopping: boolean,
  committed: number,
): { attempt: number; delayMs: number } {
  const decision: ContainerDecision = !checkpointing
    ? { action: 'escalate', reason: 'checkpointing is off, so nothing can be replayed' }
    : stopping
      ? { action: 'escalate', reason: STOPPING_REASON }
      : supervision.failed(failure, Date.now(), committed);
  if (decision.action === 'escalate') {
    markNotRestarted(failure, decision.reason);
    throw failure;
  }
  return { attempt: decision.attempt, delayMs: decision.delayMs };
}
