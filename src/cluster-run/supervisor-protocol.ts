/**
 * What launchers (`sluice launch`, `status`, `kill`, or the programmatic client) ask the supervisor, on
 * the same authenticated port as nodes: a connection whose first frame is a call rather than a join.
 *
 *   launch(LaunchRequest) → AppSummary (once started)   wait(name) → AppSummary (once ended)
 *   status() → ClusterStatus                            kill(name), stop(name) → AppSummary
 */
import type { OperatorStats } from '../engine/status.ts';

export type LaunchRequest = {
  /** File URL of the application module: the supervisor and every node load it from their own disk. */
  readonly module: string;
  /** The launcher's build hash of the module (build-hash.ts). */
  readonly hash: string;
  readonly windows?: number;
  readonly streamingWindowMs?: number;
  readonly checkpointWindowCount?: number;
  /** Containers to cut the application into. Default: every slot of the joined nodes. */
  readonly containers?: number;
  /** Windows cut by the number of input calls rather than the clock (tests: deterministic boundaries). */
  readonly virtualTime?: boolean;
};

export type AppSummary = {
  readonly name: string;
  readonly state: string;
  /** The newest window every container finished. */
  readonly window: number;
  readonly committed: number;
  readonly restarts: number;
  /** Tuples the input operators emitted so far (absent from a supervisor before this field). */
  readonly tuples?: number;
  /** Each actor's counters, as `run.stats().operators` in one process (absent from older supervisors). */
  readonly operators?: readonly OperatorStats[];
  /** Container → node. */
  readonly placement: Record<number, string>;
  /** Each container of the current life: where it runs, its epoch, the newest window it finished. */
  readonly containers?: readonly ContainerProgress[];
  /** A graceful stop left this window unfinished (a count window's source was dry): the relaunch reads it. */
  readonly unfinished?: number;
  readonly error: string | null;
};

export type ContainerProgress = {
  readonly container: number;
  readonly node: string;
  readonly epoch: number;
  readonly done: number;
  readonly finished: boolean;
};

export type ClusterStatus = {
  readonly nodes: readonly {
    readonly nodeId: string;
    readonly containers: number;
    readonly dataUrl: string | null;
    readonly hosting: readonly string[];
  }[];
  readonly apps: readonly AppSummary[];
};
