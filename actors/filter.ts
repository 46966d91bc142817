import { Operator } from '../src/index.ts';
import { checkProps } from './props.ts';

/** Passes the tuples for which the predicate holds. */
export class FilterOperator<T> extends Operator<{}, { predicate: (tuple: T) => boolean }> {
  readonly out = this.output<T>();
  readonly in = this.input<T>((t) => {
    if (this.props.predicate(t)) this.out.emit(t);
  });

  constructor(props?: { predicate: (tuple: T) => boolean }) {
    super(props);
    checkProps('FilterOperator', this.props, { predicate: 'function' }, ['predicate']);
  }
}
