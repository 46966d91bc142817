import type { OperatorContext } from './context.ts';
import { AsyncHandlerError } from './errors.ts';
import {
  declareMetric,
  type GaugeAggregate,
  type MetricCounter,
  type MetricGauge,
} from './operator-metrics.ts';
import { InputPort, OutputPort } from './ports.ts';

/** The class of `async` functions (not a global): an input handler of this class is refused. */
const AsyncFunction = (async () => {}).constructor;

/**
 * An operator: input ports, output ports and durable state. One instance of the class is one physical
 * actor (a partition or a unifier). Keep constructors cheap and free of I/O: the DAG builder constructs
 * each class once to discover its ports; open resources in `setup`.
 *
 * Lifecycle: setup(ctx) → (beginWindow(id) → tuples → endWindow())* → teardown().
 * Everything in `this.state` survives failures (it is checkpointed); everything else is transient.
 */
export abstract class Operator<State = {}, Props = {}> {
  /** Durable state: set by the runtime to `initialState()` or to the restored checkpoint before setup. */
  state!: State;
  readonly props: Props;

  constructor(props?: Props) {
    this.props = props ?? ({} as Props);
  }

  /** Declares an input port; assign it to a readonly field (the field name is the port name). */
  protected input<T>(handler: (tuple: T) => void): InputPort<T> {
    if (handler instanceof AsyncFunction) throw new AsyncHandlerError(this.constructor.name);
    return new InputPort<T>(handler);
  }

  /** Declares an output port; assign it to a readonly field and call `.emit(t)` on it. */
  protected output<T>(): OutputPort<T> {
    return new OutputPort<T>();
  }

  /**
   * Declares a metric of this operator (a counter unless `kind: 'gauge'`), read by the runtime between
   * windows and aggregated across partitions (counters sum; gauges by `aggregate`, default sum). Assign
   * it to a field: `readonly late = this.metric('late_readings')`, then `this.late.inc()`.
   */
  protected metric(name: string, options?: { kind?: 'counter' }): MetricCounter;
  protected metric(name: string, options: { kind: 'gauge'; aggregate?: GaugeAggregate }): MetricGauge;
  protected metric(
    name: string,
    options?: { kind?: 'counter' | 'gauge'; aggregate?: GaugeAggregate },
  ): MetricCounter | MetricGauge {
    return declareMetric(this, name, options);
  }

  initialState(): State {
    return {} as State;
  }

  setup(_ctx: OperatorContext): void | Promise<void> {}
  beginWindow(_windowId: number): void {}
  /** May return a promise (an output committing a window); the actor waits for it before going on. */
  endWindow(): void | Promise<void> {}
  teardown(): void | Promise<void> {}
  /** Called between windows once this instance's snapshot of window w is durable. Must not emit. */
  checkpointed(_windowId: number): void {}
  /** Called between windows once every actor has checkpointed window w. Must not emit. */
  committed(_windowId: number): void | Promise<void> {}
}

/**
 * An operator that brings data in. The runtime opens and closes streaming windows around it and calls
 * `emitTuples()` repeatedly inside each window: emit a bounded batch and return. Given its state and a
 * replayable source it must emit the same sequence again after a restore.
 *
 * An input that waits on I/O (its reads are asynchronous, emitTuples() is not) returns `false` from a call
 * that emitted nothing because the data is not there yet, and calls `ctx.wake()` when it lands: the
 * scheduler sleeps in between instead of calling it again and again (actors/redis/redis-stream-readings.ts).
 * Returning nothing (or `true`) is the synchronous input's way: an empty call then means "idle".
 */
export abstract class InputOperator<State = {}, Props = {}> extends Operator<State, Props> {
  // biome-ignore lint/suspicious/noConfusingVoidType: void keeps every `emitTuples(): void` an override.
  abstract emitTuples(): void | boolean;

  /**
   * Count windows: return true while the live window must stay open for this operator's next tuples
   * (it owes the window entries its source has not delivered yet). Asked after beginWindow() and after
   * every emitTuples() call; while it holds, the window does not close on the clock, so its boundaries
   * depend on the data alone and two runs over the same source cut the same windows at any producer
   * rate. The cost: a source that stops delivering stops the application's windows with it. A graceful
   * stop honours a hold while the operator still emits (two window lengths without a tuple, 30 in all,
   * at most), then leaves the window unfinished: nothing of it is applied, and the relaunch reads it
   * again whole. On containers a hold holds the input operators of its own container.
   * Default: never holds (processing-time windows, as in Apex).
   */
  holdsWindow(): boolean {
    return false;
  }
}

export type OperatorClass<O extends Operator<any, any> = Operator<any, any>> = new (props?: any) => O;

export function isInputOperator(op: Operator<any, any>): op is InputOperator<any, any> {
  return op instanceof InputOperator;
}
