import { SluiceError } from '../core/errors.ts';
import { isUnifierActorId } from '../plan/physical-plan.ts';

export type FailurePhase =
  /** The operator's constructor or initialState(), building an instance to restore. */
  | 'construct'
  | 'setup'
  | 'beginWindow'
  | 'tuple'
  | 'emitTuples'
  /** InputOperator.holdsWindow(), asked after beginWindow and after every emitTuples() call. */
  | 'holdsWindow'
  | 'endWindow'
  | 'checkpoint'
  | 'checkpointed'
  | 'committed'
  | 'teardown'
  | 'restore';

/** Phases before an instance's first window: its window is the one it was restored at. */
const BEFORE_WINDOWS: ReadonlySet<FailurePhase> = new Set(['construct', 'restore', 'setup']);

/** An operator threw (or rejected): which actor, in which window, doing what, and why. */
export class OperatorFailure extends SluiceError {
  /**
   * False when restarting cannot help (the same state or code would fail the same way), or would do harm:
   * the supervisor escalates at once, and the failure carries its cause's code so that the run's error
   * says what it is. Given by the caller, or by a cause that has `restartable: false` (FencedOutputError).
   */
  readonly restartable: boolean;

  constructor(
    readonly actorId: string,
    readonly operator: string,
    readonly window: number,
    readonly phase: FailurePhase,
    cause: unknown,
    options: { restartable?: boolean } = {},
  ) {
    const restartable = options.restartable ?? (cause as { restartable?: unknown })?.restartable !== false;
    const code = (!restartable && sluiceCodeOf(cause)) || 'SLUICE_OPERATOR_FAILED';
    // A unifier runs the user's unifier class for a partitioned operator: say so, not just the operator.
    const who = isUnifierActorId(actorId)
      ? `the unifier of operator "${operator}"`
      : `operator "${operator}"`;
    super(code, `${who} (${actorId}) failed ${where(window, phase)}: ${describe(cause)}`, { cause });
    this.restartable = restartable;
  }
}

/** A SluiceError's code, also on a cause rebuilt from what a container or node sent (a plain Error). */
function sluiceCodeOf(cause: unknown): string | undefined {
  if (cause instanceof SluiceError) return cause.code;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SLUICE_') ? code : undefined;
}

function where(window: number, phase: FailurePhase): string {
  if (!BEFORE_WINDOWS.has(phase)) return `in window ${window} during ${phase}`;
  const from = window === 0 ? 'starting from scratch' : `from the checkpoint of window ${window}`;
  return `during ${phase}, before window ${window + 1} (${from})`;
}

/** Says why a failure escalates instead of restarting, after its cause's own sentence. */
export function markNotRestarted(failure: Error, reason: string): void {
  failure.message = `${failure.message.replace(/\.$/, '')}; not restarted: ${reason}`;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why a failure after a graceful stop was asked for is not restarted: a restart could only finish the
 * stop, and a failure that keeps coming back (a setup waiting on a server that is down) would make the
 * stop wait for every restart the intensity allows, with its backoff. The store keeps the last commit.
 */
export const STOPPING_REASON = 'a stop was requested (the last commit is kept: a relaunch continues from it)';

/** The warning for a setup() that gave up because the run was asked to stop. */
export function setupEndedByStop(actorId: string, e: unknown, onContainers = false): string {
  const cause = e instanceof OperatorFailure ? e.cause : e;
  // On containers the others did not wait for this setup: what they ran is past the commit, not kept.
  const others = onContainers ? ' (windows other containers ran meanwhile are replayed then)' : '';
  return `setup of ${actorId} ended by the stop (${describe(cause)}): the run ends at its last commit, where the next launch goes on${others}`;
}

/**
 * A setup() gave up because the run's stop signal aborted: it rejected with the signal's reason, an
 * AbortError (fetch, timers/promises, events.once with the signal) or SLUICE_STOPPED (the Redis
 * operators). Any other error after a stop stays a failure.
 */
export function isStopAbort(e: unknown, signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  const cause = e instanceof OperatorFailure ? e.cause : e;
  if (cause === signal.reason) return true;
  const { name, code } = (cause ?? {}) as { name?: unknown; code?: unknown };
  return name === 'AbortError' || code === 'ABORT_ERR' || code === 'SLUICE_STOPPED';
}

/**
 * A container's setup ended by the stop (ContainerRuntime sends it as a failure, so that the container
 * runs no window): the warning to log instead of a failure, or undefined for any other failure.
 */
export function stoppedInSetup(failure: unknown): string | undefined {
  if (!(failure instanceof OperatorFailure) || failure.phase !== 'setup') return undefined;
  return sluiceCodeOf(failure.cause) === 'SLUICE_STOPPED' ? describe(failure.cause) : undefined;
}
