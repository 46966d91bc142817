import { Operator } from '../src/index.ts';
import { checkProps } from './props.ts';

/** Applies a pure function to every tuple. */
export class MapOperator<I, O> extends Operator<{}, { fn: (tuple: I) => O }> {
  readonly out = this.output<O>();
  readonly in = this.input<I>((t) => this.out.emit(this.props.fn(t)));

  constructor(props?: { fn: (tuple: I) => O }) {
    super(props);
    checkProps('MapOperator', this.props, { fn: 'function' }, ['fn']);
  }
}
