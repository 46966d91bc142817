/**
 * Ports are plain objects created by `this.input()` / `this.output()` in an operator's field
 * initializers. The runtime finds them by field name after construction and binds `emit` to the
 * physical route (a fused call, a batching channel writer, a partitioner), so emitting costs one call.
 */
export class InputPort<T> {
  /** Phantom member: makes InputPort<A> and InputPort<B> incompatible when A and B are. */
  declare readonly __accepts?: (t: T) => void;
  constructor(readonly handler: (tuple: T) => void) {}
}

export class OutputPort<T> {
  declare readonly __emits?: () => T;
  /** Replaced by the runtime when the operator is deployed; an unconnected port drops tuples. */
  emit: (tuple: T) => void = dropTuple;
}

function dropTuple(): void {}

export type AnyInputPort = InputPort<any>;
export type AnyOutputPort = OutputPort<any>;
