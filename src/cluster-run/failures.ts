import type { ContainerFailure } from '../container/errors.ts';
import type { ContainerEvent } from '../container/protocol.ts';
import { OperatorFailure } from '../engine/failure.ts';
import type { StatusEvent } from '../engine/status.ts';

/*
 * Failures as they reach the supervisor: an operator's failure rebuilt from the data a container sent,
 * and the status event of any failure (as ContainerRun reports them in one process).
 */

export function operatorFailure(info: Extract<ContainerEvent, { t: 'failed' }>['failure']): OperatorFailure {
  const cause = Object.assign(new Error(info.cause.message), { name: info.cause.name });
  if (info.cause.stack != null) cause.stack = info.cause.stack;
  if (info.cause.code != null) Object.assign(cause, { code: info.cause.code });
  return new OperatorFailure(
    info.actorId,
    info.operator,
    info.window,
    info.phase as OperatorFailure['phase'],
    cause,
    {
      restartable: info.restartable,
    },
  );
}

export function failureEvent(f: OperatorFailure | ContainerFailure): StatusEvent {
  if (f instanceof OperatorFailure) {
    return {
      type: 'failure',
      actorId: f.actorId,
      operator: f.operator,
      window: f.window,
      phase: f.phase,
      error: f,
    };
  }
  return {
    type: 'failure',
    actorId: `container ${f.container}`,
    operator: f.actors.join(', '),
    window: f.window,
    phase: 'container',
    error: f,
  };
}
