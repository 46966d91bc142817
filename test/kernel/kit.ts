/**
 * Shared helpers of the kernel tests: launching an application in-process on a memory store with
 * virtual time, and collecting its typed status events.
 */
import {
  type Application,
  type LaunchOptionsWithSupervision,
  launch,
  MemorySnapshotStore,
  type Run,
  type StatusEvent,
} from '../../src/index.ts';

export interface Launched {
  run: Run;
  /** Every status event, in the order the run reported them. */
  events: StatusEvent[];
}

/** Launches `app` on a fresh memory store with virtual time; status events are recorded from 'started' on. */
export async function start(app: Application, options: LaunchOptionsWithSupervision = {}): Promise<Launched> {
  const run = await launch(app, { store: new MemorySnapshotStore(), virtualTime: true, ...options });
  const events: StatusEvent[] = [];
  run.on('status', (e) => events.push(e));
  return { run, events };
}

/** Launches `app` and waits for `run.done`. */
export async function runToEnd(
  app: Application,
  options: LaunchOptionsWithSupervision = {},
): Promise<Launched> {
  const launched = await start(app, options);
  await launched.run.done;
  return launched;
}

export function eventsOf<K extends StatusEvent['type']>(
  events: readonly StatusEvent[],
  type: K,
): Extract<StatusEvent, { type: K }>[] {
  return events.filter((e): e is Extract<StatusEvent, { type: K }> => e.type === type);
}

/** Busy-waits about `us` microseconds: a consumer that is slow without yielding to the event loop. */
export function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until) {
    // spin
  }
}
