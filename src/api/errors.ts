import { SluiceError } from '../core/errors.ts';

/**
 * A window-fenced output refused an instance: a newer epoch has claimed the output since this instance
 * was built, so a newer instance replaced it (after a lifecycle timeout, a recovery, a relaunch, or in
 * another process) and this one must never apply a window. For a replaced instance the runtime ignores
 * it; for a live one the run fails without a restart (OperatorFailure.restartable): each restart raises
 * this run's epoch, so restarts would end up outbidding the other writer's epoch and steal its output.
 */
export class FencedOutputError extends SluiceError {
  readonly restartable = false;
  constructor(
    /** The actor id of the refused instance and what it writes to (a directory, a key). */
    readonly output: string,
    /** The epoch the refused instance was built in. */
    readonly epoch: number,
    /** The newest epoch the external system has seen. */
    readonly newest: number,
  ) {
    super(
      'SLUICE_FENCED',
      `${output}: this instance was built in epoch ${epoch}, but epoch ${newest} has claimed the output ` +
        'since, so a newer instance replaced it and it may not apply windows. If no other run writes to ' +
        'this output (for example the snapshot store was deleted and the output kept), remove its fence ' +
        'record or write to a fresh output.',
    );
  }
}

/**
 * An input handler declared `async`: the runtime does not wait for it, so what it emits after an await
 * lands outside its window (or in another) and a rejection escapes every supervisor. Refused when the
 * operator is built (`dag.add`), before anything runs.
 */
export class AsyncHandlerError extends SluiceError {
  readonly restartable = false;
  constructor(operator: string) {
    super(
      'SLUICE_ASYNC_HANDLER',
      `${operator}: an input handler is an async function, which the runtime would not wait for. Handle ` +
        'tuples synchronously; do asynchronous work in endWindow(), which may return a promise (or in a ' +
        'WindowFencedOutput).',
    );
  }
}

/**
 * beginWindow() returned a promise: the window's tuples would not wait for it (a fused upstream calls
 * into the operator directly), and a rejection would escape every supervisor. A code error: not restarted.
 */
export class AsyncBeginWindowError extends SluiceError {
  readonly restartable = false;
  constructor() {
    super(
      'SLUICE_ASYNC_BEGIN_WINDOW',
      'beginWindow() returned a promise: it must be synchronous. Do asynchronous work in setup() (before the ' +
        'first window) or endWindow(), which may return a promise.',
    );
  }
}

/** holdsWindow() returned a promise: whether the window may close is needed at once. */
export class AsyncHoldsWindowError extends SluiceError {
  readonly restartable = false;
  constructor() {
    super(
      'SLUICE_ASYNC_HOLDS_WINDOW',
      'holdsWindow() returned a promise: it must answer synchronously, true or false, from state the operator already has (docs/operators.md).',
    );
  }
}

/**
 * emitTuples() returned a promise: what it emits after an await lands in whichever window is open then,
 * and a replay cannot cut it where the first pass did. A code error: not restarted.
 */
export class AsyncEmitTuplesError extends SluiceError {
  readonly restartable = false;
  constructor() {
    super(
      'SLUICE_ASYNC_EMIT_TUPLES',
      'emitTuples() returned a promise: it must emit synchronously. For asynchronous reads keep a read-ahead ' +
        'buffer filled in the background, emit from it, and return false while it is empty (docs/operators.md).',
    );
  }
}

/**
 * An operator emitted between windows: in setup(), in a hook (checkpointed, committed), or from a timer or
 * callback of its own. Such tuples belong to no window: they would land in whichever window came next, and
 * a replay would not emit them again. Found at the next window's start, once per window and writer (no
 * cost per tuple); a code error that a restart would repeat.
 */
export class EmittedBetweenWindowsError extends SluiceError {
  readonly restartable = false;
  constructor(tuples: number, window: number) {
    super(
      'SLUICE_EMIT_OUTSIDE_WINDOW',
      `${tuples} tuple${tuples === 1 ? ' was' : 's were'} emitted between windows (before window ${window}): in setup(), ` +
        'a hook (checkpointed, committed), or a timer or callback of the operator. Emit only from the calls of a ' +
        'window: input handlers, beginWindow, endWindow (an async one until its promise settles), emitTuples.',
    );
  }
}

/**
 * An operator emitted while a window was open, but from none of the runtime's calls: a timer, an event
 * handler or a promise callback of its own. The tuples landed in whichever window happened to be open, and
 * a replay would not emit them again. Noted per batch (no cost per tuple), raised before the window ends,
 * so no sink applies it; a code error that a restart would repeat.
 */
export class EmittedOutsideCallsError extends SluiceError {
  readonly restartable = false;
  constructor(window: number) {
    super(
      'SLUICE_EMIT_OUTSIDE_CALL',
      `tuples were emitted in window ${window} from outside the runtime's calls (a timer, an event handler or a ` +
        "promise callback of this operator, or of one that feeds it through a 'thread' stream): they would not " +
        'be replayed. Emit only from input handlers, beginWindow, endWindow (an async one until its promise ' +
        'settles) and emitTuples; a source fed by callbacks keeps what arrives in a buffer, emits it from ' +
        'emitTuples() and calls ctx.wake().',
    );
  }
}
