import { SluiceError } from '../core/errors.ts';

export type FailurePhase =
  | 'setup'
  | 'beginWindow'
  | 'tuple'
  | 'emitTuples'
  | 'endWindow'
  | 'checkpoint'
  | 'checkpointed'
  | 'committed'
  | 'teardown'
  | 'restore';

/** An operator threw (or rejected): which actor, in which window, doing what, and why. */
export class OperatorFailure extends SluiceError {
  constructor(
    readonly actorId: string,
    readonly operator: string,
    readonly window: number,
    readonly phase: FailurePhase,
    cause: unknown,
  ) {
    super(
      'SLUICE_OPERATOR_FAILED',
      `operator "${operator}" (${actorId}) failed in window ${window} during ${phase}: ${describe(cause)}`,
      { cause },
    );
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
