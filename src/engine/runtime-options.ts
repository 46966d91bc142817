import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { Supervision } from './supervision.ts';

export interface RuntimeOptions {
  plan: PhysicalPlan;
  store: SnapshotStore;
  supervision: Supervision;
  streamingWindowMs: number;
  /** 0 turns checkpointing (and so recovery and replay buffers) off. */
  checkpointWindowCount: number;
  /** Stop cleanly once this window is done and committed. */
  windows?: number;
  /**
   * Windows advance without sleeping (tests): a window closes once every input operator emitted nothing
   * in a call or made `callsPerWindow` emitTuples() calls (default 64).
   */
  virtualTime?: boolean | { callsPerWindow?: number };
  replayFrom?: 'buffers' | 'sources';
  /** How long an asynchronous lifecycle call may take before it counts as a failure. Default 60 s. */
  lifecycleTimeoutMs?: number;
  /** Messages (batches) a channel may hold unread before its producer is paused. Default 16. */
  mailboxCapacity?: number;
  /** Tuples per batch on a queued channel. Default 1024. */
  batchSize?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Wall-clock start of window 1, persisted on first launch (default Date.now()). */
  epochMs?: number;
  /** Debug switches that break the guarantees on purpose, to show the property tests can fail. */
  debug?: { skipDedupe?: boolean; skipReplay?: boolean };
}
