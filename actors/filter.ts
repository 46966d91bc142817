import { Operator } from '../src/index.ts';

/** Passes the tuples for which the predicate holds. */
export class FilterOperator<T> extends Operator<{}, { predicate: (tuple: T) => boolean }> {
  readonly out = this.output<T>();
  readonly in = this.input<T>((t) => {
    if (this.props.predicate(t)) this.out.emit(t);
  });
}
