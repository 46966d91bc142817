/**
 * What the metrics collector reads from a running engine, between windows and on its sampling timer:
 * never on the path of a tuple. The engine implements it (src/engine/metrics-source.ts); a container
 * would implement it over its own actors and send the collector's plain-data snapshots to the main thread.
 */
import type { PhysicalPlan } from '../plan/physical-plan.ts';

export interface SourceActor {
  readonly id: string;
  /** The operator instance (a recovery replaces it: its own metrics then start at zero). */
  readonly operator: object;
  /** Newest window it finished. */
  readonly lastEnded: number;
  /** Batches waiting in its mailbox. */
  mailbox(): number;
  /** It has work but a mailbox it (or a fused actor it drives) writes is full. */
  blocked(): boolean;
  /**
   * Time blocked so far, when the source counts it itself (an actor in another thread: its worker samples
   * it); the collector then reads this instead of sampling blocked().
   */
  blockedMs?(): number;
  /**
   * Windows finished and durable checkpoints so far, when the source counts them itself (an actor in
   * another thread: its worker does, so the counts outlive the collector); else the collector counts
   * them from the engine's calls and status events.
   */
  counted?(): SourceCounts;
}

export interface SourceCounts {
  readonly windows: number;
  readonly checkpoints: { readonly count: number; readonly totalMs: number; readonly totalBytes: number };
}

export interface SourceChannel {
  readonly backlog: number;
  readonly capacity: number;
  /** False while its writer must wait (a channel to another thread: out of credit, whatever its backlog). */
  readonly hasRoom?: boolean;
  /** Tuples written so far (counted per batch by the writer). */
  readonly tuples: number;
  /** Called with every batch written while set (taps.ts); null when no tap is open: one check per batch. */
  tap: ((tuples: readonly unknown[], count: number) => void) | null;
  /**
   * Samples taken so far and those in which the mailbox was full, when the source samples it itself (a
   * channel of another thread: its writer's worker does); the collector then reads this instead.
   */
  sampled?(): { readonly samples: number; readonly full: number };
}

export interface MetricsSource {
  readonly plan: PhysicalPlan;
  actors(): readonly SourceActor[];
  /** A queued channel, by plan channel id (undefined for fused ones). */
  channel(id: number): SourceChannel | undefined;
  /** Tuples that crossed a fused channel; undefined when fused channels are not counted (the default). */
  fusedTuples(id: number): number | undefined;
  liveWindow(): number;
  doneWindow(): number;
  committed(): number;
}
