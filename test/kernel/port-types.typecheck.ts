/**
 * Compile-time proof that `dag.stream` checks port types. Checked by `tsc --noEmit -p .` (the project's
 * tsconfig includes test/): each `@ts-expect-error` line MUST be an error, or tsc reports the directive as
 * unused. port-types.test.ts checks the other way round, with the directives removed.
 * This file is never run; it only has to compile.
 */
import { application, InputOperator, Operator } from '../../src/index.ts';

class Numbers extends InputOperator {
  readonly out = this.output<number>();
  emitTuples(): void {}
}

class NumbersOrStrings extends InputOperator {
  readonly out = this.output<number | string>();
  emitTuples(): void {}
}

class TakesNumbers extends Operator {
  readonly in = this.input<number>(() => {});
}

class TakesStrings extends Operator {
  readonly in = this.input<string>(() => {});
}

class TakesNumbersOrStrings extends Operator {
  readonly in = this.input<number | string>(() => {});
}

export const portTypes = application('port-types', (dag) => {
  const numbers = dag.add('numbers', Numbers);
  const mixed = dag.add('mixed', NumbersOrStrings);
  const numbersIn = dag.add('numbersIn', TakesNumbers);
  const stringsIn = dag.add('stringsIn', TakesStrings);
  const wideIn = dag.add('wideIn', TakesNumbersOrStrings);
  const alsoWide = dag.add('alsoWide', TakesNumbersOrStrings);
  const narrowIn = dag.add('narrowIn', TakesNumbers);

  // Positive: the same tuple type.
  dag.stream('same', numbers.out, numbersIn.in);
  // Positive: a subtype flows into a port that accepts its supertype.
  dag.stream('widening', numbers.out, wideIn.in);
  dag.stream('mixed', mixed.out, alsoWide.in);
  // Positive: one stream to several ports that all accept its type.
  dag.stream('fan-out', numbers.out, [numbersIn.in, wideIn.in]);

  // PORT-TYPE-ERROR: numbers into a port of strings.
  // @ts-expect-error number is not assignable to string
  dag.stream('mismatch', numbers.out, stringsIn.in);

  // PORT-TYPE-ERROR: a supertype into a port that accepts only the subtype.
  // @ts-expect-error string | number is not assignable to number
  dag.stream('narrowing', mixed.out, narrowIn.in);
});
