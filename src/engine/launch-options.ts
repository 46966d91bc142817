import type { ApplicationAttributes } from '../dag/attributes.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';

export interface LaunchOptions extends ApplicationAttributes {
  /** A directory for the LevelDB snapshot store (default `./.sluice/<app name>`), or a store. */
  store?: string | SnapshotStore;
  /** Stop cleanly once this many windows are done and committed. Default: run until stop(). */
  windows?: number;
  /**
   * Windows advance without sleeping (tests): a window closes once every input operator emitted nothing
   * in a call or made `callsPerWindow` emitTuples() calls (default 64).
   */
  virtualTime?: boolean | { callsPerWindow?: number };
  /** Unread batches a queued channel holds before its producer pauses. Default 16. */
  mailboxCapacity?: number;
  /** Tuples per batch on queued channels. Default 1024. */
  batchSize?: number;
  /** Rewrites the physical plan before it runs (the test kit wraps operator classes to inject faults). */
  instrument?: (plan: PhysicalPlan) => PhysicalPlan;
  /** Break the guarantees on purpose (to see the fault tests fail). */
  debug?: { skipDedupe?: boolean; skipReplay?: boolean };
}
