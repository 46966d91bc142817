/** What the runtime tells an operator instance about itself in `setup(ctx)`. */
export interface OperatorContext {
  /** Logical operator name given to `dag.add`. */
  readonly operatorName: string;
  /** Physical instance id (`name`, `name#2`, or a unifier id). */
  readonly actorId: string;
  readonly partition: number;
  readonly partitions: number;
  readonly applicationName: string;
  readonly streamingWindowMs: number;
  readonly applicationWindowCount: number;
  /** The streaming window being processed (0 before the first). */
  readonly windowId: number;
  /**
   * Start time of the current window (ms since epoch, from the runtime's clock). Use this instead of
   * Date.now() in anything emitted or stored: it is the same when a window is replayed.
   */
  readonly windowStartMs: number;
  /**
   * The fencing epoch this instance was built in (docs/guarantees.md, Exactly-once outputs): every launch,
   * relaunch and recovery raises it, and it is persisted in the snapshot store. A window-fenced output hands
   * it to the external system with each apply, which refuses epochs older than the newest it has seen, so a
   * replaced instance whose write lands late is refused.
   */
  readonly epoch: number;
  /**
   * Wakes the scheduler, from any callback: something an input operator waits for has arrived (a read it
   * started landed). An input operator whose `emitTuples()` has nothing to emit until then returns `false`
   * ("waiting on I/O"); the scheduler then sleeps instead of calling it again at once — a replay waits
   * rather than spins — until `wake()`, or until the window is due. Cheap, and harmless when it is not
   * sleeping.
   */
  wake(): void;
  /**
   * Aborted once the run is asked to stop (Ctrl-C, `run.stop()`) or killed. Hand it to whatever a setup()
   * waits on (a connection, a fetch): a stop during start-up then ends at once, and a setup that rejects
   * after this signal aborted is taken as stopped, not as a failure. Optional: a hand-made context in a
   * test may lack it.
   */
  readonly stopSignal?: AbortSignal;
}

/**
 * What the runtime's own context offers besides OperatorContext, for the library's window-fenced outputs
 * (not exported: a hand-made context in a test may lack it).
 */
export interface RuntimeContext extends OperatorContext {
  /** No window was ever logged or checkpointed in this launch's store. */
  readonly storeUntouched?: boolean;
  /** A warning for the run's log. */
  warn?(message: string): void;
}
