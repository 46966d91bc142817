/**
 * The warning of a graceful stop that left its live window unfinished (InputDriver.abandoned): the same
 * words in one thread, on containers and on a cluster.
 */
export function leftUnfinished(window: number, holding: readonly string[]): string {
  const who = holding.length > 0 ? holding.join(', ') : 'an input operator';
  return (
    `window ${window} is left unfinished: ${who} held it open (count window) and its source delivered ` +
    'nothing more after the stop. Nothing of it was applied; the relaunch reads it again from the last ' +
    "checkpoint, so it holds what an uninterrupted run's window holds"
  );
}
