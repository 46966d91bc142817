/**
 * Logs the status events a person running an application cares about: start, failures, restarts,
 * recoveries, warnings and the stop. Windows, checkpoints and commits go to the debug level (the
 * progress line sums them up once a second).
 */

import { ContainerFailure } from '../container/errors.ts';
import type { StatusEvent } from '../engine/status.ts';
import type { Logger } from './logger.ts';
import { causeStack, indent } from './stack.ts';

export function logStatus(
  log: Logger,
  e: StatusEvent,
  /** --json logs windows and commits at info already (logWindows, with the commit lag). */
  windowsLogged = false,
): void {
  switch (e.type) {
    case 'started': {
      const r = e.restoredWindow;
      const replayed =
        e.firstWindow > r + 2
          ? `windows ${r + 1}–${e.firstWindow - 1} replay from the window log`
          : e.firstWindow === r + 2
            ? `window ${r + 1} replays from the window log`
            : undefined;
      const from =
        r > 0
          ? `restored from the checkpoint of window ${r}${replayed ? `; ${replayed}` : ''}`
          : replayed
            ? `no checkpoint yet: ${replayed}`
            : 'fresh store';
      log.info(
        {
          event: e.type,
          application: e.application,
          actors: e.actors,
          firstWindow: e.firstWindow,
          restoredWindow: e.restoredWindow,
        },
        `started "${e.application}": ${e.actors} actors, first window ${e.firstWindow} (${from})`,
      );
      return;
    }
    case 'failure': {
      // The cause's stack: always a field (--json), in the text only at debug level (it may be restarted).
      const stack = causeStack(e.error);
      const text =
        stack && log.isLevelEnabled('debug') ? `${e.error.message}\n${indent(stack)}` : e.error.message;
      // A container's failure: its number and actors as fields of their own, not squeezed into actorId.
      const where =
        e.error instanceof ContainerFailure
          ? { container: e.error.container, actors: e.error.actors }
          : { actorId: e.actorId, operator: e.operator };
      log.error({ event: e.type, ...where, window: e.window, phase: e.phase, stack }, text);
      return;
    }
    case 'restart':
      log.warn(
        {
          event: e.type,
          actors: e.actors,
          replaying: e.replaying ?? [],
          window: e.window,
          attempt: e.attempt,
          restarts: e.restarts,
          delayMs: e.delayMs,
        },
        `restart #${e.restarts} in ${e.delayMs} ms: ${list(e.actors)} from the checkpoint of window ${e.window}${recomputing(e.replaying)}`,
      );
      return;
    case 'recovered':
      log.info(
        {
          event: e.type,
          actors: e.actors,
          replaying: e.replaying ?? [],
          window: e.window,
          ms: Math.round(e.ms),
        },
        `recovered ${list(e.actors)} from window ${e.window} in ${Math.round(e.ms)} ms`,
      );
      return;
    case 'warning':
      log.warn({ event: e.type }, e.message);
      return;
    case 'stopped':
      log[e.reason === 'failure' ? 'warn' : 'info'](
        {
          event: e.type,
          window: e.window,
          committed: e.committed,
          reason: e.reason,
          unfinished: e.unfinished,
        },
        `stopped after window ${e.window}, committed ${e.committed} (${stopReason(e.reason)}${
          e.unfinished === undefined ? '' : `; window ${e.unfinished} left for the relaunch`
        })`,
      );
      return;
    case 'window':
      if (!windowsLogged) {
        log.debug(
          { event: e.type, window: e.window, tuples: e.tuples },
          `window ${e.window} done by every actor (${e.tuples} tuples in so far)`,
        );
      }
      return;
    case 'commit':
      if (!windowsLogged) log.debug({ event: e.type, window: e.window }, `committed window ${e.window}`);
      return;
    case 'checkpoint': {
      const took = e.ms === undefined ? '' : ` in ${Math.round(e.ms)} ms`;
      const size = e.bytes === undefined ? '' : `, ${e.bytes} bytes`;
      log.debug(
        { event: e.type, actorId: e.actorId, window: e.window, ms: e.ms, bytes: e.bytes },
        `checkpoint of ${e.actorId} at window ${e.window}${took}${size}`,
      );
      return;
    }
  }
}

function list(actors: readonly string[]): string {
  const shown = actors.slice(0, 5).join(', ');
  return actors.length > 5 ? `${shown} and ${actors.length - 5} more` : shown;
}

function stopReason(reason: 'windows' | 'stop' | 'failure'): string {
  if (reason === 'windows') return 'all windows done';
  if (reason === 'stop') return 'stop requested';
  return 'failure';
}

/** The actors rebuilt only to recompute the windows the recovery set needs again (no replay buffers). */
function recomputing(replaying: readonly string[] | undefined): string {
  return replaying && replaying.length > 0 ? `; rebuilt to recompute: ${list(replaying)}` : '';
}
