import { OperatorFailure } from '../engine/failure.ts';
import type { StatusEvent } from '../engine/status.ts';
import type { ContainerFailure } from './errors.ts';
import type { FailureInfo } from './protocol.ts';

/*
 * Failures as they reach the supervisor: an operator's failure rebuilt from the data a container sent,
 * and the status event of any failure: the same for ContainerRun (one process) and ClusterRun (nodes).
 * (`!= null`: over the cluster's CBOR, an absent field may come back as null.)
 */

export function operatorFailure(info: FailureInfo): OperatorFailure {
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
    window: f.inWindow ?? f.window,
    phase: 'container',
    error: f,
  };
}
