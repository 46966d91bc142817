import type { OperatorStats, StatusEvent } from '../engine/status.ts';
import type { TapSample } from '../metrics/taps.ts';
import type { MetricsReport } from '../metrics/worker-report.ts';

/**
 * What a container and the main thread tell each other outside comlink calls, on the container's events
 * port (plain messages: cheap, ordered, nothing to await).
 *
 *   container → main: beat (heartbeat + stats + metrics), progress (its done window), checkpointed, status,
 *                     failed, finished, tap (a sample of an open tap), unfinished (a stop left a held
 *                     window unfinished)
 *   main → container: done (the application's done window, for pacing), commit (the committed window)
 */
export type ContainerEvent =
  | { readonly t: 'beat'; readonly operators: OperatorStats[]; readonly metrics?: MetricsReport }
  | { readonly t: 'progress'; readonly window: number; readonly tuples: number }
  | {
      readonly t: 'checkpointed';
      readonly actorId: string;
      readonly window: number;
      readonly ms?: number;
      readonly bytes?: number;
    }
  | { readonly t: 'tap'; readonly tap: number; readonly sample: TapSample }
  | { readonly t: 'status'; readonly event: StatusEvent }
  | { readonly t: 'failed'; readonly failure: FailureInfo }
  | { readonly t: 'finished' }
  /**
   * A graceful stop outlasted the hold of `holding` (count windows) on `window`: the application leaves
   * that window unfinished (InputDriver.abandoned).
   */
  | { readonly t: 'unfinished'; readonly window: number; readonly holding: readonly string[] };

export type MainNotice =
  | { readonly t: 'done'; readonly window: number }
  | { readonly t: 'commit'; readonly window: number }
  /** A partial restart restored some containers at `window` (the others' commit horizon counts from it). */
  | { readonly t: 'restored'; readonly window: number };

/** An OperatorFailure (or an error of the container's runtime) as it crosses threads: data only. */
export interface FailureInfo {
  readonly actorId: string;
  readonly operator: string;
  readonly window: number;
  readonly phase: string;
  readonly restartable: boolean;
  readonly cause: {
    readonly name: string;
    readonly message: string;
    readonly stack?: string;
    readonly code?: string;
  };
}

/** What a container needs to host its part of the plan (everything but the ports is plain data). */
export interface DeployConfig {
  readonly restoreWindow: number;
  /** No window was ever logged or checkpointed in the store (ActorHost.storeUntouched). */
  readonly storeUntouched?: boolean;
  /** The application's committed window (≤ restoreWindow). */
  readonly committed: number;
  readonly replayableFrom: number;
  readonly epoch: number;
  readonly epochMs: number;
  readonly streamingWindowMs: number;
  readonly checkpointWindowCount: number;
  /**
   * Checkpoint intervals a live window may open past the committed window, or past the newest window a
   * restart restored at (InputDriver's commit horizon); absent: no limit (a cluster's nodes go on while
   * their supervisor is away).
   */
  readonly checkpointsAhead?: number;
  readonly windows?: number;
  readonly virtualTime?: boolean | { callsPerWindow?: number };
  readonly lifecycleTimeoutMs?: number;
  readonly mailboxCapacity?: number;
  readonly batchSize?: number;
  readonly heartbeatMs: number;
  /**
   * Three int32s the worker keeps up to date: 1 + the index among this container's actors (in plan order,
   * as ContainerHandle.actors lists them) of the actor it is calling (0: none), that actor's window, and
   * a count of the batches written (and of every 64 tuples). A container whose heartbeat stops is reported with the actor it is
   * stuck in; one whose count still moves is busy in a long call, not stuck (ContainerHandle.hangReport).
   */
  readonly callSite?: SharedArrayBuffer;
  /**
   * Collect metrics (sent with each heartbeat; default true); fused streams counted too with
   * `{ fusedTuples: true }`.
   */
  readonly metrics?: boolean | { fusedTuples?: boolean };
}

/** How the main thread starts a container: workerData of its worker. */
export interface ContainerWorkerData {
  readonly tsxApi: string;
  readonly hooks: string;
  readonly entry: string;
  readonly module: string;
  readonly applicationName: string;
  /** Informative only (messages): a spare worker starts with none; `deploy` says which container it is. */
  readonly container?: number;
  readonly containers: number;
}
