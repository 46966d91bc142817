import type { Actor, ActorSnapshot } from './actor.ts';
import type { OperatorFailure } from './failure.ts';

/** What an actor needs from the runtime that hosts it. */
export interface ActorHost {
  readonly applicationName: string;
  readonly streamingWindowMs: number;
  /** 0: checkpointing off. */
  readonly checkpointWindowCount: number;
  /** How long an asynchronous lifecycle call (endWindow, committed, a window-log write) may take. */
  readonly lifecycleTimeoutMs: number;
  /** The last window of this run (Infinity until `windows` is reached or stop() is called). */
  readonly finalWindow: number;
  /** The current fencing epoch: actors built now carry it (OperatorContext.epoch). */
  readonly epoch: number;
  /**
   * This launch began on a store in which no window was ever logged or checkpointed: whatever an output
   * already holds was applied from another store (a window-fenced output warns: it would skip those
   * windows as replays).
   */
  readonly storeUntouched: boolean;
  /**
   * Aborted once this run is asked to stop, or killed (OperatorContext.stopSignal): a setup() that waits on
   * something outside (a connection) gives up at once instead of holding the stop.
   */
  readonly stopSignal: AbortSignal;
  /** A warning for the run's log (a status event of type warning). */
  warn(message: string): void;
  /** Start time of a window, for OperatorContext.windowStartMs. */
  windowStartMs(window: number): number;
  fail(failure: OperatorFailure): void;
  /** An input operator opened window w (live or replayed): where the window's latency starts. */
  windowOpened?(window: number): void;
  /** The actor finished window w (its end marker has left). */
  windowEnded(actor: Actor, window: number): void;
  /** Stores a snapshot taken at the end of window w (asynchronously). */
  saveCheckpoint(actor: Actor, window: number, snapshot: ActorSnapshot): void;
  /** Persists an input operator's window log entry; the end marker waits for it (if it is a promise). */
  appendWindowLog(actor: Actor, window: number, counts: number[]): void | Promise<void>;
  /** Something asynchronous finished: the scheduler should look again. */
  wake(): void;
}
