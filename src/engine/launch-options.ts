import type { ApplicationAttributes } from '../dag/attributes.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { WindowCuts } from './window-generator.ts';

export interface LaunchOptions extends ApplicationAttributes {
  /** A directory for the LevelDB snapshot store (default `./.sluice/<app name>`), or a store. */
  store?: string | SnapshotStore;
  /** Stop cleanly once this many windows are done and committed. Default: run until stop(). */
  windows?: number;
  /**
   * Windows advance without sleeping (tests): a window closes once every input operator emitted nothing
   * in a call or made `callsPerWindow` emitTuples() calls (default 64). `cutAt` overrides that per input
   * operator and window (the test kit's timing faults: a window cut early or late, as load does).
   */
  virtualTime?: boolean | { callsPerWindow?: number; cutAt?: WindowCuts };
  /**
   * Where a recovery gets the windows after its checkpoint (docs/guarantees.md, Recovery). Either way the
   * recovery set is the failed actor and what is downstream of it, restored at its newest common checkpoint.
   * 'sources' (default): streams keep no replay buffers (no memory, encoding or GC cost per tuple, as Apex
   * keeps none on streams inside a container); the other actors are rebuilt at that checkpoint as well and
   * recompute the windows the set needs again, the input operators replaying their window logs: exact,
   * because every stream is deterministic. 'buffers': channels keep what they sent since the last commit
   * (encoded), and only the recovery set is rebuilt; its upstreams replay from those buffers (an operator
   * without durable state keeps none: it is recovered with its consumer, src/plan/replay-buffers.ts). Dearer to
   * run, cheaper to recover a deep pipeline's tail. One thread only: on containers, streams across
   * containers keep what they sent since the commit and the rest recompute, so 'buffers' is refused there
   * (and keeps a launch without `containers` in this thread).
   */
  replayFrom?: 'buffers' | 'sources';
  /**
   * How long an asynchronous lifecycle call (an output's endWindow, a committed hook) may take before it
   * counts as a failure of its operator (a call that never settles would stall the application). 60 s.
   */
  lifecycleTimeoutMs?: number;
  /** Unread batches a queued channel holds before its producer pauses. Default 16. */
  mailboxCapacity?: number;
  /** Tuples per batch on queued channels. Default 1024. */
  batchSize?: number;
  /**
   * Per-actor and per-window metrics (`run.metrics()`, docs/observability.md). Default true; false leaves
   * only the counts the engine always keeps (`run.stats()`). Tuples are counted per batch, so tuples across
   * a fused (thread-local) stream, which has no batches, are counted only with `{ fusedTuples: true }`: a
   * count per tuple, a few percent of a fused pipeline's throughput.
   */
  metrics?: boolean | { fusedTuples?: boolean };
  /** Rewrites the physical plan before it runs (the test kit wraps operator classes to inject faults). */
  instrument?: (plan: PhysicalPlan) => PhysicalPlan;
  /**
   * Run the actors in this many worker threads (containers), placed by `assignContainers`; 0 runs
   * everything in this thread. Needs `module`: each worker loads the application module itself. Default:
   * with `module`, the number of cores capped by what the plan can spread over (`defaultContainers`: 0 for
   * one core, a plan that fills one container, `instrument`, `virtualTime.cutAt` or `replayFrom:
   * 'buffers'`); without `module`, this thread.
   */
  containers?: number;
  /**
   * Warm spare workers kept for container replacements (started 5 s after the run went live, ~1 s of CPU
   * each to load). Default: one per container, at most 4. 0: a replacement starts a cold worker (benches
   * that time a few seconds of work, where loading spares would be counted with it).
   */
  spareWorkers?: number;
  /**
   * The application module (path or file URL) whose default export is this application: containers load
   * it by path (application code never travels between threads). `sluice run` passes APP.
   */
  module?: string | URL;
  /** A container that sends no heartbeat for this long (an endless loop in an operator) is replaced. 10 s. */
  heartbeatTimeoutMs?: number;
  /**
   * Drills (containers only). FOR `--fault container:N@W` AND THE TEST KIT: `{ kind: 'container',
   * container: N, window: W }` hard-kills container N's worker (worker.terminate(), as a crash would) once
   * it has finished window W, while it works on the next; it fires once per run (not again after the replacement). The container supervisor
   * replaces it and the output stays as an undisturbed run's.
   */
  faults?: readonly ContainerFault[];
  /** Break the guarantees on purpose (to see the fault tests fail). */
  debug?: { skipDedupe?: boolean; skipReplay?: boolean };
}

/** A drill: kill container `container` (0-based, as `sluice plan --containers` numbers them) at window `window`. */
export interface ContainerFault {
  readonly kind: 'container';
  readonly container: number;
  readonly window: number;
}

/** Replay by recomputation from the input operators' window logs: no per-tuple cost while running. */
export const DEFAULT_REPLAY_FROM = 'sources' as const;
