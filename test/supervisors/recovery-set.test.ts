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

const EVERY_ACTOR = ['a', 'b#0', 'b#1', 's3:unifier', 'side', 'sink', 'src'];

test('a failed actor takes everything downstream of it with it, and nothing upstream', () => {
  expect([...recoverySet(plan, ['b#1'])].sort()).toEqual(['b#1', 's3:unifier', 'sink']);
});

test('an actor fused into its upstream takes the fused upstream (same call stack) and all it feeds', () => {
  expect([...recoverySet(plan, ['a'])].sort()).toEqual(EVERY_ACTOR);
});

test("with replayFrom 'buffers', a stateless upstream (its stream keeps no buffer) is recovered with its consumer, and all it feeds", () => {
  // b's partitions keep no state: s3 keeps no buffer behind them, so a failed unifier takes them along,
  // and a (stateless too) with them; src is an input operator: its stream keeps its buffer.
  expect([...recoverySet(plan, ['s3:unifier'], 'buffers')].sort()).toEqual(EVERY_ACTOR);
  expect([...recoverySet(plan, ['s3:unifier'], 'sources')].sort()).toEqual(['s3:unifier', 'sink']);
});

class Counter extends Operator<{ n: number }> {
  readonly out = this.output<number>();
  readonly in = this.input<number>((t) => {
    this.state.n++;
    this.out.emit(t);
  });
  override initialState() {
    return { n: 0 };
  }
}

test("with replayFrom 'buffers', a stateful upstream keeps its buffer: its consumer recovers alone", () => {
  const p = planPhysical(
    application('rs2', (dag) => {
      const src = dag.add('src', Src);
      const c = dag.add('c', Counter);
      const a = dag.add('a', Pass);
      const sink = dag.add('sink', Sink);
      dag.stream('s1', src.out, c.in);
      dag.stream('s2', c.out, a.in);
      dag.stream('s3', a.out, sink.in);
    }).dag(),
  );
  expect([...recoverySet(p, ['sink'], 'buffers')].sort()).toEqual(['a', 'sink']);
  expect([...recoverySet(p, ['a'], 'buffers')].sort()).toEqual(['a', 'sink']);
});
