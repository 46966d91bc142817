import { describe, expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import {
  type Application,
  application,
  InputOperator,
  type LaunchOptionsWithSupervision,
  Operator,
  type OperatorFailure,
} from '../../src/index.ts';
import { eventsOf, runToEnd, start } from './kit.ts';

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
    expect([error?.actorId, error?.code]).toEqual(['leak', 'SLUICE_EMIT_OUTSIDE_WINDOW']);
    // committed(2) comes once the store has written window 2's checkpoints: window 3 or a little later.
    expect(error?.window).toBeGreaterThanOrEqual(window);
    expect(error?.window).toBeLessThanOrEqual(window + 2);
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

describe('a tuple emitted while a window is open, but from a callback of the operator', () => {
  /** Passes each tuple on from a promise callback: the common mistake of a Node stream user. */
  class Deferred extends Operator {
    readonly out = this.output<number>();
    readonly in = this.input<number>((n) => {
      void Promise.resolve(n).then((m) => this.out.emit(m));
    });
  }

  /** A source fed by an event emitter, emitting from the listener instead of from emitTuples(). */
  class Pushy extends InputOperator {
    readonly out = this.output<number>();
    private timer: NodeJS.Timeout | undefined;
    private n = 0;
    override setup(): void {
      this.timer = setInterval(() => this.out.emit(this.n++), 1);
    }
    emitTuples(): boolean {
      return false; // nothing of its own: waits, as a callback-fed source does
    }
    override teardown(): void {
      clearInterval(this.timer);
    }
  }

  const failureOf = async (app: Application, options: LaunchOptionsWithSupervision) => {
    const { run, events } = await start(app, options);
    const error = await run.done.then(
      () => undefined,
      (e: unknown) => e as OperatorFailure,
    );
    return { error, restarts: eventsOf(events, 'restart') };
  };

  it.each([
    ['queued (container)', 'container'],
    ['fused (thread)', 'thread'],
  ] as const)(
    'from a promise callback of a handler, %s: the window fails before it ends, not restarted',
    async (_, locality) => {
      const into = new Collected<number>();
      const app = application('deferred', (dag) => {
        const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
        const late = dag.add('late', Deferred);
        const sink = dag.add('sink', CollectSink<number>, { into });
        dag.stream('numbers', src.out, late.in).locality(locality);
        dag.stream('out', late.out, sink.in);
      });
      const { error, restarts } = await failureOf(app, { windows: 6 });
      expect([error?.actorId, error?.code]).toEqual(['late', 'SLUICE_EMIT_OUTSIDE_CALL']);
      expect(error?.message).toMatch(/tuples were emitted in window \d+ from outside the runtime's calls/);
      expect(restarts).toEqual([]);
      expect(into.windows.size).toBe(0); // no window holding them reached the sink
    },
  );

  it('from an event listener of a source, on the real clock: the window fails, not restarted', async () => {
    const app = application('pushy', (dag) => {
      const src = dag.add('src', Pushy);
      const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
      dag.stream('numbers', src.out, sink.in);
    });
    const { error, restarts } = await failureOf(app, {
      virtualTime: false,
      streamingWindowMs: 20,
      windows: 50,
    });
    expect([error?.actorId, error?.code]).toEqual(['src', 'SLUICE_EMIT_OUTSIDE_CALL']);
    expect(error?.message).toMatch(
      /emits it from emitTuples\(\) and calls ctx\.wake\(\); not restarted: restarting cannot fix it$/,
    );
    expect(restarts).toEqual([]);
  });

  it('an async endWindow may emit after it awaited, fused or queued: no false alarm', async () => {
    class Summing extends Operator<{ sum: number }> {
      readonly out = this.output<number>();
      readonly in = this.input<number>((n) => {
        this.state.sum += n;
      });
      override initialState() {
        return { sum: 0 };
      }
      override async endWindow(): Promise<void> {
        await new Promise((r) => setTimeout(r, 1));
        this.out.emit(this.state.sum);
      }
    }
    for (const locality of ['thread', 'container'] as const) {
      const into = new Collected<number>();
      const app = application('async-end', (dag) => {
        const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
        const sum = dag.add('sum', Summing);
        const sink = dag.add('sink', CollectSink<number>, { into });
        dag.stream('numbers', src.out, sum.in).locality(locality);
        dag.stream('sums', sum.out, sink.in).locality(locality);
      });
      await runToEnd(app, { windows: 5 });
      expect([...into.windows.values()].flat()).toEqual([3, 15, 36, 66, 105]);
    }
  });
});
