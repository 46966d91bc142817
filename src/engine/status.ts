/** Typed status events of a running application (`run.on('status', ...)`). */
export type StatusEvent =
  | { type: 'started'; application: string; actors: number; firstWindow: number; restoredWindow: number }
  /** Every actor has finished this window. `tuples`: tuples emitted by input operators so far. */
  | { type: 'window'; window: number; tuples: number }
  /** `ms`: from the snapshot taken to durable; `bytes`: its size, where the runtime encoded it itself. */
  | { type: 'checkpoint'; actorId: string; window: number; ms?: number; bytes?: number }
  | { type: 'commit'; window: number }
  | { type: 'failure'; actorId: string; operator: string; window: number; phase: string; error: Error }
  /**
   * `actors`: the recovery set (failed, and downstream of a failure). `replaying`: actors rebuilt at the
   * same window only to recompute what the set needs again (streams keep no replay buffers); not restarts.
   */
  | {
      type: 'restart';
      actors: readonly string[];
      replaying?: readonly string[];
      window: number;
      /** The restart's number within the restart intensity's period (what its backoff grows with). */
      attempt: number;
      /** Restarts of this run so far, this one included. */
      restarts: number;
      delayMs: number;
    }
  | {
      type: 'recovered';
      actors: readonly string[];
      replaying?: readonly string[];
      window: number;
      ms: number;
    }
  | { type: 'warning'; message: string }
  | {
      type: 'stopped';
      window: number;
      committed: number;
      reason: 'windows' | 'stop' | 'failure';
      /**
       * A graceful stop left this live window unfinished: an input operator held it (count windows) and
       * its source stayed dry after the stop. Nothing of it was applied; the relaunch reads it again.
       */
      unfinished?: number;
    };

export interface OperatorStats {
  actorId: string;
  operator: string;
  /** Tuples handled from queued inputs (input operators: tuples emitted). */
  tuples: number;
  /** Batches waiting in its mailbox (each at most `batchSize` tuples). */
  queued: number;
  /** Last window this actor finished. */
  window: number;
  /** An input operator holding its open window (count windows, `holdsWindow()`): that window. */
  holding?: number;
}

export interface RunStats {
  window: number;
  committed: number;
  restarts: number;
  tuples: number;
  operators: OperatorStats[];
}
