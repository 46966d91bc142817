import type { Actor } from './actor.ts';

/**
 * Whether a stop that leaves a window unfinished must still wait for `a`: a lifecycle call in flight, or
 * hooks queued while it is between windows. Hooks queued while it is in the unfinished window (the
 * commit that landed while the window was held) run only once that window ends, which it never does:
 * they are left, as a kill leaves them (the relaunch restores at the committed window).
 */
export function hooksInFlight(a: Actor): boolean {
  return a.busy || (a.hasPendingHooks && !a.inWindow);
}

/**
 * The warning of a graceful stop that left its live window unfinished (InputDriver.abandoned): the same
 * words in one thread, on containers and on a cluster.
 */
export function leftUnfinished(window: number, holding: readonly string[]): string {
  const who = holding.length > 0 ? holding.join(', ') : 'an input operator';
  return (
    `window ${window} is left unfinished: ${who} held it open (count window) and its source did not fill ` +
    'it in time after the stop. Nothing of it was applied; the relaunch reads it again from the last ' +
    "checkpoint, so it holds what an uninterrupted run's window holds"
  );
}

/**
 * What the containers of one application report of a window a stop leaves unfinished (on containers and
 * on a cluster): the earliest such window, and the input operators that held it.
 */
export class UnfinishedWindow {
  window: number | undefined;
  readonly holding = new Set<string>();

  /** A container's report; true when every container must now leave `window` (the first, or earlier). */
  heard(window: number, holding: readonly string[]): boolean {
    for (const id of holding) this.holding.add(id);
    if (this.window !== undefined && this.window <= window) return false;
    this.window = window;
    return true;
  }

  /** The warning to emit as the stop ends, if a window was left. */
  warning(): string | undefined {
    return this.window === undefined ? undefined : leftUnfinished(this.window, [...this.holding]);
  }
}
