/**
 * What `run.metrics()` returns: plain data (numbers, strings, arrays), so that a container or a node can
 * send it to the supervisor as it is. Counters are cumulative since the run started (in this process);
 * rates are over the last second; latencies over the whole run.
 */
import type { LatencySummary } from './latency.ts';

export type { LatencySummary };

export interface CheckpointMetrics {
  count: number;
  totalMs: number;
  lastMs: number;
  /** Bytes of the snapshots whose size is known (every snapshot the runtime encodes itself). */
  totalBytes: number;
  lastBytes: number;
}

export interface CustomMetricValue {
  kind: 'counter' | 'gauge';
  value: number;
}

interface Counted {
  /** Windows finished (a window redone after a recovery counts again). */
  windows: number;
  /**
   * Tuples this actor read from its input streams, counted per batch where they are written. Fused
   * (thread-local) inputs count only with `metrics: { fusedTuples: true }` (see EdgeMetrics.counted).
   */
  tuplesIn: number;
  tuplesOut: number;
  inPerSecond: number;
  outPerSecond: number;
  /** Window latency: from the window's start at the input operators to its end here. */
  latency: LatencySummary;
  /** Batches waiting in the mailbox (each up to `batchSize` tuples). */
  mailbox: number;
  /** Time it had work but a mailbox it writes was full (backpressure), sampled every 20 ms. */
  blockedMs: number;
  checkpoints: CheckpointMetrics;
  /** How many recoveries rebuilt it. */
  restarts: number;
  custom: Record<string, CustomMetricValue>;
}

export interface ActorMetrics extends Counted {
  actorId: string;
  operator: string;
  kind: 'input' | 'operator' | 'unifier';
  partition: number;
  container: number;
  /** The cluster node hosting its container (runs on a cluster only). */
  node?: string;
  /** The newest window it finished. */
  window: number;
}

export interface OperatorMetrics extends Counted {
  operator: string;
  /** Its partitions (unifiers are listed under the operator whose partitions they merge, kind 'unifier'). */
  actors: string[];
}

export interface EdgeMetrics {
  channel: number;
  stream: string;
  from: string;
  to: string;
  fused: boolean;
  /** False for a fused edge unless launched with `metrics: { fusedTuples: true }`: its tuples read 0. */
  counted: boolean;
  tuples: number;
  perSecond: number;
  /** Unread batches (0 for fused edges). */
  backlog: number;
  capacity: number;
  /** Share of the last second's samples in which the mailbox was full: backpressure on this edge. */
  fullRatio: number;
}

export interface RecoveryMetrics {
  count: number;
  totalMs: number;
  lastMs: number;
}

export interface MetricsSnapshot {
  application: string;
  /** Wall-clock time of the snapshot (ms since the epoch). */
  atMs: number;
  uptimeMs: number;
  /** The newest window every actor finished. */
  window: number;
  /** The newest window the input operators opened. */
  liveWindow: number;
  committed: number;
  /** liveWindow − committed: how many windows a failure now could make the application redo. */
  commitLag: number;
  failures: number;
  restarts: number;
  recoveries: RecoveryMetrics;
  operators: OperatorMetrics[];
  actors: ActorMetrics[];
  edges: EdgeMetrics[];
}

/** One second of history, for charts: per operator, rates and the p99 of windows ended in it. */
export interface HistoryPoint {
  atMs: number;
  window: number;
  committed: number;
  operators: Record<string, { inPerSecond: number; outPerSecond: number; p99Ms: number; mailbox: number }>;
}

/** Failures, restarts and recoveries, as they happened (the console's timeline). */
export type TimelineEntry =
  | {
      type: 'failure';
      atMs: number;
      actorId: string;
      operator: string;
      window: number;
      phase: string;
      message: string;
    }
  | { type: 'restart'; atMs: number; actors: string[]; window: number; attempt: number; delayMs: number }
  | {
      type: 'recovered';
      atMs: number;
      actors: string[];
      /** Restored from the checkpoint of this window. */
      window: number;
      /** Windows after it that had been opened and are redone. */
      replayed: number;
      ms: number;
    }
  | { type: 'started'; atMs: number; firstWindow: number; restoredWindow: number }
  | { type: 'stopped'; atMs: number; window: number; committed: number; reason: string };
