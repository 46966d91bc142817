import { expect, test } from 'vitest';
import { Operator } from '../../src/api/operator.ts';
import { application, InputOperator, planPhysical } from '../../src/index.ts';
import { recoveryScope, recoverySet } from '../../supervisors/recovery-set.ts';

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
  // and a (stateless too) with them, and src (an input: it replays its window log), and side (fed by a).
  expect([...recoverySet(plan, ['s3:unifier'], 'buffers')].sort()).toEqual(EVERY_ACTOR);
  const scope = recoveryScope(plan, ['s3:unifier'], 'buffers');
  expect([...scope.restarted].sort()).toEqual(['s3:unifier', 'sink']);
  expect([...scope.recomputing].sort()).toEqual(['a', 'b#0', 'b#1', 'side', 'src']);
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

test("with replayFrom 'buffers', an input operator's stream keeps no buffer: it replays its window log to a recovered consumer", () => {
  const p = planPhysical(
    application('rs3', (dag) => {
      const src = dag.add('src', Src);
      const c = dag.add('c', Counter);
      const sink = dag.add('sink', Sink);
      dag.stream('s1', src.out, c.in);
      dag.stream('s2', c.out, sink.in);
    }).dag(),
  );
  const c = recoveryScope(p, ['c'], 'buffers');
  expect([[...c.restarted].sort(), [...c.recomputing]]).toEqual([['c', 'sink'], ['src']]);
  // Behind the stateful c, the sink recovers alone: c replays from its buffer.
  const sink = recoveryScope(p, ['sink'], 'buffers');
  expect([[...sink.restarted], [...sink.recomputing]]).toEqual([['sink'], []]);
});

test("with replayFrom 'buffers', an input operator that feeds several actors keeps its buffers: one failed partition does not rebuild the others", () => {
  const p = planPhysical(
    application('rs4', (dag) => {
      const src = dag.add('src', Src);
      const c = dag.add('c', Counter, undefined, { partitions: 2 });
      const sink = dag.add('sink', Sink);
      dag.stream('s1', src.out, c.in);
      dag.stream('s2', c.out, sink.in);
    }).dag(),
  );
  const scope = recoveryScope(p, ['c#1'], 'buffers');
  expect([[...scope.restarted].sort(), [...scope.recomputing]]).toEqual([['c#1', 's2:unifier', 'sink'], []]);
});
