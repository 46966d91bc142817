import type { Operator, OperatorClass } from '../api/operator.ts';

export type Locality = 'thread' | 'container' | 'node' | 'any';

/** Per-operator attributes (Apex's operator attributes). */
export interface OperatorAttributes {
  /** Static partitions: this many physical instances. Default 1 (or the upstream's, for parallel streams). */
  partitions?: number;
  /** Streaming windows per application window: beginWindow/endWindow span this many. Default 1. */
  applicationWindowCount?: number;
  /** Merges the partitions' outputs where they feed fewer instances. Default: pass-through. */
  unifier?: OperatorClass<Operator<any, any>>;
  /** The most inputs one unifier takes; more partitions build cascading layers. Default 16. */
  unifierLimit?: number;
}

/** Per-application attributes. */
export interface ApplicationAttributes {
  /** Length of a streaming window. Default 500 ms. */
  streamingWindowMs?: number;
  /** Checkpoint every this many windows; 0 turns checkpointing off. Default 10. */
  checkpointWindowCount?: number;
}

export const DEFAULT_STREAMING_WINDOW_MS = 500;
export const DEFAULT_CHECKPOINT_WINDOW_COUNT = 10;
export const DEFAULT_UNIFIER_LIMIT = 16;
