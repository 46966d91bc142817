import { expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, InputOperator, Operator, type OperatorFailure } from '../../src/index.ts';
import { eventsOf, start } from './kit.ts';

/** Passes its input on; emits one more tuple where `where` says, outside any window. */
class Leaky extends Operator<{}, { where: 'setup' | 'committed' }> {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => this.out.emit(n));
  override setup(): void {
    if (this.props.where === 'setup') this.out.emit(-1);
  }
  override committed(): void {
    if (this.props.where === 'committed') this.out.emit(-2);
  }
}

const leaky = (where: 'setup' | 'committed') =>
  application('leaky', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
    const leak = dag.add('leak', Leaky, { where });
    const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
    dag.stream('numbers', src.out, leak.in);
    dag.stream('out', leak.out, sink.in);
  });

it.each([
  ['setup', 1],
  ['committed', 3],
] as const)(
  'a tuple emitted in %s (between windows) fails the run at the next window, not restarted',
  async (where, window) => {
    const { run, events } = await start(leaky(where), { windows: 6, checkpointWindowCount: 2 });
    const error = await run.done.then(
      () => undefined,
      (e: unknown) => e as OperatorFailure,
    );
    expect([error?.actorId, error?.window, error?.code]).toEqual([
      'leak',
      window,
      'SLUICE_EMIT_OUTSIDE_WINDOW',
    ]);
    expect(error?.message).toMatch(/1 tuple was emitted between windows \(before window \d+\)/);
    expect(eventsOf(events, 'restart')).toEqual([]);
  },
);

it('an emitTuples() that returns a promise fails the run with what to do instead, not restarted', async () => {
  class AsyncSource extends InputOperator {
    readonly out = this.output<number>();
    // @ts-expect-error what a JavaScript user can write: TypeScript refuses an async emitTuples
    async emitTuples(): Promise<void> {
      await Promise.resolve();
      this.out.emit(1);
    }
  }
  const app = application('async-source', (dag) => {
    const src = dag.add('src', AsyncSource);
    const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
    dag.stream('numbers', src.out, sink.in);
  });
  const { run, events } = await start(app, { windows: 3 });
  const error = await run.done.then(
    () => undefined,
    (e: unknown) => e as OperatorFailure,
  );
  expect([error?.actorId, error?.code]).toEqual(['src', 'SLUICE_ASYNC_EMIT_TUPLES']);
  expect(error?.message).toMatch(/emitTuples\(\) returned a promise: it must emit synchronously/);
  expect(eventsOf(events, 'restart')).toEqual([]);
});

it('an async input handler is refused when the operator is built, before anything runs', () => {
  class AsyncHandler extends Operator {
    readonly out = this.output<number>();
    readonly in = this.input<number>(async (n) => {
      await Promise.resolve();
      this.out.emit(n);
    });
  }
  const app = application('async-handler', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
    const slow = dag.add('slow', AsyncHandler);
    dag.stream('numbers', src.out, slow.in);
  });
  expect(() => app.dag()).toThrow(/AsyncHandler: an input handler is an async function/);
});

it('a beginWindow() that returns a promise fails the run at its first window, not restarted', async () => {
  class AsyncBegin extends Operator {
    readonly out = this.output<number>();
    readonly in = this.input<number>((n) => this.out.emit(n));
    override async beginWindow(): Promise<void> {
      await Promise.resolve();
    }
  }
  const app = application('async-begin', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
    const begin = dag.add('begin', AsyncBegin);
    const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
    dag.stream('numbers', src.out, begin.in);
    dag.stream('out', begin.out, sink.in);
  });
  const { run, events } = await start(app, { windows: 3 });
  const error = await run.done.then(
    () => undefined,
    (e: unknown) => e as OperatorFailure,
  );
  expect([error?.actorId, error?.window, error?.code]).toEqual(['begin', 1, 'SLUICE_ASYNC_BEGIN_WINDOW']);
  expect(eventsOf(events, 'restart')).toEqual([]);
});
