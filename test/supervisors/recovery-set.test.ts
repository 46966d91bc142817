import { expect, test } from 'vitest';
import { Operator } from '../../src/api/operator.ts';
import { application, InputOperator, planPhysical } from '../../src/index.ts';
import { recoverySet } from '../../supervisors/recovery-set.ts';

class Src extends InputOperator {
  readonly out = this.output<number>();
  emitTuples(): void {}
}
class Pass extends Operator {
  readonly out = this.output<number>();
  readonly in = this.input<number>((t) => this.out.emit(t));
}
class Sink extends Operator {
  readonly in = this.input<number>(() => {});
}

const plan = planPhysical(
  application('rs', (dag) => {
    const src = dag.add('src', Src);
    const a = dag.add('a', Pass);
    const b = dag.add('b', Pass, undefined, { partitions: 2 });
    const sink = dag.add('sink', Sink);
    const side = dag.add('side', Sink);
    dag.stream('s1', src.out, a.in).locality('thread');
    dag.stream('s2', a.out, [b.in, side.in]);
    dag.stream('s3', b.out, sink.in);
  }).dag(),
);

test('a failed actor takes everything downstream of it with it, and nothing upstream', () => {
  expect([...recoverySet(plan, ['b#1'])].sort()).toEqual(['b#1', 's3:unifier', 'sink']);
});

test('an actor fused into its upstream takes the fused upstream (same call stack) and all it feeds', () => {
  expect([...recoverySet(plan, ['a'])].sort()).toEqual([
    'a',
    'b#0',
    'b#1',
    's3:unifier',
    'side',
    'sink',
    'src',
  ]);
});
