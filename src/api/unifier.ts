import { Operator } from './operator.ts';

/** The default unifier: forwards every tuple of every partition, in arrival order. */
export class PassThroughUnifier<T = unknown> extends Operator {
  readonly out = this.output<T>();
  readonly in = this.input<T>((t) => this.out.emit(t));
}
