import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { LaunchOptions } from './launch-options.ts';
import type { Supervision } from './supervision.ts';

/** What the runtime needs: the launch options it uses, resolved, plus the plan, store and supervision. */
export interface RuntimeOptions
  extends Pick<
    LaunchOptions,
    | 'windows'
    | 'virtualTime'
    | 'replayFrom'
    | 'lifecycleTimeoutMs'
    | 'mailboxCapacity'
    | 'batchSize'
    | 'debug'
    | 'metrics'
  > {
  plan: PhysicalPlan;
  store: SnapshotStore;
  supervision: Supervision;
  streamingWindowMs: number;
  /** 0 turns checkpointing (and so recovery and replay buffers) off. */
  checkpointWindowCount: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Wall-clock start of window 1, persisted on first launch (default Date.now()). */
  epochMs?: number;
}
