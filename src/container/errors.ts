import { SluiceError } from '../core/errors.ts';

/**
 * A container (worker thread) died or stopped answering: which one, the actors it hosted, the window the
 * application had reached, and why (the worker exited, threw an uncaught error, was terminated, or missed
 * its heartbeats — an operator stuck in a synchronous loop).
 */
export class ContainerFailure extends SluiceError {
  constructor(
    readonly container: number,
    readonly actors: readonly string[],
    readonly window: number,
    readonly reason: string,
    cause?: unknown,
    /** The drill that killed it (`container:N@W`), when it was one. */
    readonly drill?: string,
    /**
     * The window its stuck call was in (a hang): known even when the worker, looping since, never got
     * to report the windows it had finished before.
     */
    readonly inWindow?: number,
  ) {
    // How many were left out, as the restart line says it: a bare "…" read as the whole list.
    const shown =
      actors.length > 6
        ? `${actors.slice(0, 6).join(', ')} and ${actors.length - 6} more`
        : actors.join(', ');
    const when = inWindow === undefined ? `after window ${window}` : `in window ${inWindow}`;
    super(
      'SLUICE_CONTAINER_FAILED',
      `container ${container} (actors ${shown || 'none'}) failed ${when}: ${reason}`,
      {
        cause,
      },
    );
  }
}

/** A launch option that containers cannot honour (a function cannot cross threads, no module given). */
export class ContainerOptionError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_INVALID_OPTION', message);
  }
}
