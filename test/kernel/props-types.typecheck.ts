/**
 * Compile-time proof that `dag.add` wants the props a class requires. Checked by `tsc --noEmit -p .` (the
 * project's tsconfig includes test/): each `@ts-expect-error` line MUST be an error, or tsc reports the
 * directive as unused. Never run; it only has to compile.
 */
import { application, InputOperator } from '../../src/index.ts';

class Counted extends InputOperator<{ next: number }, { perWindow: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { next: 0 };
  }
  emitTuples(): void {}
}

class Defaulted extends InputOperator<{ next: number }, { perWindow?: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { next: 0 };
  }
  emitTuples(): void {}
}

export const propsTypes = application('props-types', (dag) => {
  dag.add('given', Counted, { perWindow: 10 });
  dag.add('given-with-attributes', Counted, { perWindow: 10 }, { partitions: 2 });
  // Optional props may be left out, or be undefined before attributes.
  dag.add('defaulted', Defaulted);
  dag.add('defaulted-with-attributes', Defaulted, undefined, { partitions: 2 });

  // @ts-expect-error perWindow is required: the source would run on undefined
  dag.add('missing', Counted);
  // @ts-expect-error nor may they be undefined
  dag.add('undefined', Counted, undefined, { partitions: 2 });
});
