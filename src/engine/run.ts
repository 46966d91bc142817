import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import type { Application } from '../api/application.ts';
import { MIN_HEARTBEAT_TIMEOUT_MS } from '../container/supervision.ts';
import { SluiceError } from '../core/errors.ts';
import { raiseHeapTrimThreshold } from '../core/heap-trim.ts';
import { DEFAULT_CHECKPOINT_WINDOW_COUNT, DEFAULT_STREAMING_WINDOW_MS } from '../dag/attributes.ts';
import type { RunMetrics } from '../metrics/run-metrics.ts';
import type { MetricsSnapshot } from '../metrics/types.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { planPhysical } from '../plan/planner.ts';
import { closeAfter } from '../storage/close-after.ts';
import { LevelSnapshotStore } from '../storage/level-snapshot-store.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import { defaultStoreDir } from '../storage/store-dir.ts';
import { DEFAULT_REPLAY_FROM, type LaunchOptions } from './launch-options.ts';
import { Runtime } from './runtime.ts';
import type { RunStats, StatusEvent } from './status.ts';
import type { Supervision, SupervisionConfig } from './supervision.ts';

/** A running application. */
export interface Run {
  readonly application: string;
  readonly plan: PhysicalPlan;
  /** Resolves when `windows` are done and committed, or after stop(); rejects with an escalated failure. */
  readonly done: Promise<void>;
  on(event: 'status', listener: (e: StatusEvent) => void): this;
  off(event: 'status', listener: (e: StatusEvent) => void): this;
  /**
   * Graceful stop: closes the open window, checkpoints, commits; resolves once the run has ended, also
   * when it ended in a failure (that is `done`'s to report: a stop called and not awaited, in a signal
   * handler, never becomes an unhandled rejection).
   */
  stop(): Promise<void>;
  /** Abrupt stop, as if the process died: no final checkpoint (for fault tests). */
  kill(): Promise<void>;
  stats(): RunStats;
  /** Per-operator, per-actor and per-edge metrics now (docs/observability.md); throws with `metrics: false`. */
  metrics(): MetricsSnapshot;
  /** A failure drill: the actor fails now, as if its operator threw; false if there is no such actor. */
  failActor(actorId: string, reason?: string): boolean;
  /** The metrics collector itself (history, timeline, taps: what the console serves); null with `metrics: false`. */
  readonly collector: RunMetrics | null;
}

/** Builds the plan, opens the store, and starts the runtime (the composition root supplies supervision). */
export async function startRun(
  app: Application,
  options: LaunchOptions,
  makeSupervision: (config: SupervisionConfig) => Supervision,
): Promise<Run> {
  raiseHeapTrimThreshold();
  const planned = planPhysical(app.dag());
  const plan = options.instrument ? options.instrument(planned) : planned;
  const checkpointWindowCount =
    options.checkpointWindowCount ?? app.attributes.checkpointWindowCount ?? DEFAULT_CHECKPOINT_WINDOW_COUNT;
  const streamingWindowMs =
    options.streamingWindowMs ?? app.attributes.streamingWindowMs ?? DEFAULT_STREAMING_WINDOW_MS;
  checkRunNumbers({ ...options, checkpointWindowCount, streamingWindowMs });
  const store = openableStore(options.store, app.name);
  await store.open();
  const runtime = new Runtime({
    plan,
    store,
    supervision: makeSupervision({
      checkpointing: checkpointWindowCount > 0,
      replayFrom: options.replayFrom ?? DEFAULT_REPLAY_FROM,
    }),
    replayFrom: options.replayFrom ?? DEFAULT_REPLAY_FROM,
    lifecycleTimeoutMs: options.lifecycleTimeoutMs,
    streamingWindowMs,
    checkpointWindowCount,
    windows: options.windows,
    virtualTime: options.virtualTime,
    mailboxCapacity: options.mailboxCapacity,
    batchSize: options.batchSize,
    debug: options.debug,
    metrics: options.metrics,
  });
  const events = new EventEmitter<{ status: [StatusEvent] }>();
  runtime.events.on('status', (e) => events.emit('status', e));
  // Start on the next turn so that listeners added right after `await launch()` see 'started'.
  const done = new Promise<void>((r) => setImmediate(r)).then(() => closeAfter(store, () => runtime.run()));
  done.catch(() => {}); // the caller observes `done`; this keeps an unobserved failure from crashing
  const run: Run = {
    application: app.name,
    plan,
    done,
    on(event, listener) {
      events.on(event, listener);
      return run;
    },
    off(event, listener) {
      events.off(event, listener);
      return run;
    },
    async stop() {
      runtime.stop();
      await done.catch(() => {});
    },
    async kill() {
      runtime.kill();
      await done.catch(() => {});
    },
    stats: () => runtime.stats(),
    metrics() {
      if (runtime.metrics === null) throw new MetricsOffError();
      return runtime.metrics.snapshot();
    },
    collector: runtime.metrics,
    failActor: (actorId, reason = 'failure drill') => runtime.failActor(actorId, reason),
  };
  return run;
}

/** A launch option out of range. */
export class InvalidOptionError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_INVALID_OPTION', message);
  }
}

/** run.metrics() on a run launched with `metrics: false`. */
export class MetricsOffError extends SluiceError {
  constructor() {
    super(
      'SLUICE_METRICS_OFF',
      'this run was launched with metrics: false; launch it without to read metrics',
    );
  }
}

function openableStore(store: LaunchOptions['store'], name: string): SnapshotStore {
  if (store !== undefined && typeof store !== 'string') return store;
  return new LevelSnapshotStore(resolve(store ?? defaultStoreDir(name)));
}

export { MIN_HEARTBEAT_TIMEOUT_MS };

function bad(what: string, v: unknown): InvalidOptionError {
  const got = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return new InvalidOptionError(`launch option ${what} is invalid (got ${got})`);
}

/**
 * The options every launch checks first, in one thread or on containers (each path checks its own
 * numbers as well): the error for the first one that is invalid, or undefined.
 */
export function invalidLaunchOption(
  o: LaunchOptions & { heartbeatTimeoutMs?: number },
): InvalidOptionError | undefined {
  // An empty path would resolve to the working directory: LevelDB's files among the user's own.
  if (typeof o.store === 'string' && o.store.trim() === '')
    return bad('store (a directory, or a SnapshotStore)', o.store);
  if (
    o.store !== undefined &&
    typeof o.store !== 'string' &&
    typeof (o.store as { open?: unknown })?.open !== 'function'
  )
    return bad('store (a directory, or a SnapshotStore)', typeof o.store);
  if (o.containers !== undefined && !(Number.isSafeInteger(o.containers) && o.containers >= 0))
    return bad('containers (an integer ≥ 0; 0: this thread)', o.containers);
  const calls = typeof o.virtualTime === 'object' ? o.virtualTime.callsPerWindow : undefined;
  if (calls !== undefined && (!Number.isSafeInteger(calls) || calls < 1)) {
    return bad('virtualTime.callsPerWindow (an integer ≥ 1)', calls);
  }
  if (o.replayFrom !== undefined && o.replayFrom !== 'buffers' && o.replayFrom !== 'sources') {
    return bad("replayFrom ('buffers' or 'sources')", o.replayFrom);
  }
  const hb = o.heartbeatTimeoutMs;
  // Workers beat every sixth of the limit but at least 20 ms apart: a shorter limit only reports false hangs.
  if (hb !== undefined && !(hb >= MIN_HEARTBEAT_TIMEOUT_MS && hb < 2 ** 31)) {
    return bad(
      `heartbeatTimeoutMs (a number of milliseconds ≥ ${MIN_HEARTBEAT_TIMEOUT_MS} that a timer can hold)`,
      hb,
    );
  }
  return undefined;
}

/**
 * The numbers of a run, once resolved from launch options and application attributes (an attribute is
 * checked as the option would be): in one thread, on containers and on a cluster alike.
 */
export function checkRunNumbers(
  o: Pick<LaunchOptions, 'lifecycleTimeoutMs' | 'mailboxCapacity' | 'batchSize' | 'windows'> & {
    checkpointWindowCount: number;
    streamingWindowMs: number;
  },
): void {
  // Timers are no finer than a millisecond: a shorter window is not one the runtime could keep.
  if (!(Number.isFinite(o.streamingWindowMs) && o.streamingWindowMs >= 1)) {
    throw bad('streamingWindowMs (a number of milliseconds ≥ 1)', o.streamingWindowMs);
  }
  if (o.lifecycleTimeoutMs !== undefined && !(o.lifecycleTimeoutMs > 0 && o.lifecycleTimeoutMs < 2 ** 31)) {
    throw bad(
      'lifecycleTimeoutMs (a number of milliseconds > 0 that a timer can hold)',
      o.lifecycleTimeoutMs,
    );
  }
  for (const key of ['mailboxCapacity', 'batchSize'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw bad(`${key} (an integer ≥ 1)`, v);
  }
  if (!Number.isInteger(o.checkpointWindowCount) || o.checkpointWindowCount < 0) {
    throw bad('checkpointWindowCount (an integer ≥ 0)', o.checkpointWindowCount);
  }
  if (o.windows !== undefined && (!Number.isInteger(o.windows) || o.windows < 1)) {
    throw bad('windows (an integer ≥ 1)', o.windows);
  }
}
