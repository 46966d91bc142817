import { expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, InputOperator, Operator, type OperatorFailure } from '../../src/index.ts';
import { runWithFaults } from '../../src/testkit/index.ts';

/** The test kit wraps every operator class: what the operator's calls return must still reach the runtime. */

class AsyncBegin extends Operator {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => this.out.emit(n));
  override async beginWindow(): Promise<void> {
    await Promise.resolve();
  }
}

class AsyncSource extends InputOperator<{ next: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { next: 0 };
  }
  // tsc refuses `async emitTuples()`; a promise typed as a boolean (a JavaScript user's mistake) is not.
  emitTuples(): boolean {
    this.out.emit(this.state.next++);
    return Promise.resolve() as unknown as boolean;
  }
}

it('a beginWindow() that returns a promise fails the run in the test kit as it does in a real run', async () => {
  const app = application('async-begin', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
    const begin = dag.add('begin', AsyncBegin);
    const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
    dag.stream('numbers', src.out, begin.in);
    dag.stream('out', begin.out, sink.in);
  });
  const result = await runWithFaults(app, { windows: 3 });
  const error = result.error as OperatorFailure | undefined;
  expect([error?.actorId, error?.window, error?.code]).toEqual(['begin', 1, 'SLUICE_ASYNC_BEGIN_WINDOW']);
});

it('an emitTuples() that returns a promise fails the run in the test kit as it does in a real run', async () => {
  const app = application('async-source', (dag) => {
    const src = dag.add('src', AsyncSource as unknown as typeof SequenceSource);
    const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
    dag.stream('numbers', src.out, sink.in);
  });
  const result = await runWithFaults(app, { windows: 3 });
  const error = result.error as OperatorFailure | undefined;
  expect([error?.actorId, error?.code]).toEqual(['src', 'SLUICE_ASYNC_EMIT_TUPLES']);
});
