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

/**
 * The application module built another DAG in a worker than in the main thread (a DAG read from
 * applicationArgs(), which are empty in a worker; from the clock, a random number): the user's to fix.
 */
export class ApplicationDiffersError extends SluiceError {
  constructor(where: string, expected: readonly string[], got: readonly string[]) {
    const only = (a: readonly string[], b: readonly string[]) => {
      const other = new Set(b);
      const left = a.filter((x) => !other.has(x));
      return left.length === 0
        ? 'none'
        : left.slice(0, 6).join(', ') + (left.length > 6 ? `, and ${left.length - 6} more` : '');
    };
    super(
      'SLUICE_APP_DIFFERS',
      `the application module builds another DAG in ${where} than in the main thread (actor@container in the main thread's plan only: ${only(expected, got)}; in ${where}'s only: ${only(got, expected)}): ` +
        'it must build the same DAG wherever it loads; applicationArgs() is empty in a worker-thread container, so pass flags through process.env',
    );
  }
}
