import { describe, expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import {
  type Application,
  application,
  InputOperator,
  launch,
  MemorySnapshotStore,
  Operator,
  type OperatorContext,
  OperatorFailure,
  RestartStrategy,
} from '../../src/index.ts';
import { eventsOf, runToEnd, start } from './kit.ts';

type Phase = 'beginWindow' | 'tuple' | 'endWindow' | 'endWindowAsync';

interface FaultProps {
  /** The window in which to throw. */
  window: number;
  phase: Phase;
  /** `once`: only the first time (across restarts, per key); `always`: every time it gets there. */
  mode: 'once' | 'always';
  /** Names this fault in `thrown`, the module-level record of faults that already fired. */
  key: string;
}

/** Faults that fired, by key: outside every operator instance, so a restarted instance sees it. */
const thrown = new Set<string>();

function fire(props: FaultProps, phase: Phase, window: number): void {
  if (props.phase !== phase || props.window !== window) return;
  if (props.mode === 'once' && thrown.has(props.key)) return;
  thrown.add(props.key);
  throw new Error(`boom (${props.key})`);
}

/** Emits the running sum of its input (so its output depends on its restored state); throws as told. */
class Fragile extends Operator<{ seen: number; sum: number }, FaultProps> {
  readonly out = this.output<number>();
  private ctx!: OperatorContext;
  readonly in = this.input<number>((n) => {
    this.state.seen++;
    // Fail in the middle of the window, after part of it was emitted downstream.
    if (this.state.seen % 10 === 5) fire(this.props, 'tuple', this.ctx.windowId);
    this.state.sum += n;
    this.out.emit(this.state.sum);
  });

  override initialState() {
    return { seen: 0, sum: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }

  override beginWindow(w: number): void {
    fire(this.props, 'beginWindow', w);
  }

  override endWindow(): void | Promise<void> {
    fire(this.props, 'endWindow', this.ctx.windowId);
    if (this.props.phase === 'endWindowAsync') {
      const w = this.ctx.windowId;
      return new Promise((resolve) => setTimeout(resolve, 1)).then(() =>
        fire(this.props, 'endWindowAsync', w),
      );
    }
  }
}

/** A replayable source (its state is its offset) that throws in emitTuples as its props say. */
class FragileSource extends InputOperator<{ next: number }, Omit<FaultProps, 'phase'>> {
  readonly out = this.output<number>();
  private ctx!: OperatorContext;
  private left = 0;

  override initialState() {
    return { next: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }

  override beginWindow(): void {
    this.left = 20;
  }

  emitTuples(): void {
    if (this.left < 20) fire({ ...this.props, phase: 'tuple' }, 'tuple', this.ctx.windowId);
    const n = Math.min(this.left, 7);
    for (let i = 0; i < n; i++) this.out.emit(this.state.next++);
    this.left -= n;
  }
}

function pipeline(
  name: string,
  into: Collected<number>,
  fault: FaultProps,
  where: 'operator' | 'source' = 'operator',
): Application {
  return application(name, (dag) => {
    const src =
      where === 'source'
        ? dag.add('src', FragileSource, fault)
        : dag.add('src', SequenceSource, { tuplesPerWindow: 20, batch: 7 });
    const op = dag.add('fragile', Fragile, where === 'operator' ? fault : { ...fault, window: -1 });
    const sink = dag.add('sink', CollectSink<number>, { into });
    dag.stream('numbers', src.out, op.in).locality('container');
    dag.stream('sums', op.out, sink.in).locality('container');
  });
}

async function failureOf(done: Promise<void>): Promise<OperatorFailure> {
  const err = await done.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OperatorFailure);
  return err as OperatorFailure;
}

describe('operator failures', () => {
  it.each<[Phase, string]>([
    ['tuple', 'tuple'],
    ['beginWindow', 'beginWindow'],
    ['endWindow', 'endWindow'],
    ['endWindowAsync', 'endWindow'],
  ])(
    'with restart: stop(), a throw in %s rejects run.done naming operator, window and cause',
    async (phase, reported) => {
      const key = `stop-${phase}`;
      thrown.delete(key);
      const app = pipeline(key, new Collected(), { window: 3, phase, mode: 'always', key });
      const { run, events } = await start(app, {
        windows: 6,
        checkpointWindowCount: 2,
        restart: RestartStrategy.stop(),
      });
      const err = await failureOf(run.done);
      expect(err.code).toBe('SLUICE_OPERATOR_FAILED');
      expect(err.operator).toBe('fragile');
      expect(err.actorId).toBe('fragile');
      expect(err.window).toBe(3);
      expect(err.phase).toBe(reported);
      expect((err.cause as Error).message).toBe(`boom (${key})`);
      expect(err.message).toContain('"fragile"');
      expect(err.message).toContain('window 3');
      expect(err.message).toContain(`boom (${key})`);
      expect(eventsOf(events, 'failure')).toHaveLength(1);
      expect(eventsOf(events, 'restart')).toHaveLength(0);
    },
  );

  it('with restart: stop(), a throw in emitTuples rejects run.done naming the input operator', async () => {
    const key = 'stop-emitTuples';
    thrown.delete(key);
    const app = pipeline(key, new Collected(), { window: 2, phase: 'tuple', mode: 'always', key }, 'source');
    const { run } = await start(app, {
      windows: 6,
      checkpointWindowCount: 2,
      restart: RestartStrategy.stop(),
    });
    const err = await failureOf(run.done);
    expect(err.operator).toBe('src');
    expect(err.window).toBe(2);
    expect(err.phase).toBe('emitTuples');
    expect(err.message).toContain('"src"');
    expect(err.message).toContain('window 2');
    expect(err.message).toContain(`boom (${key})`);
  });

  it('a throw in a unifier names it as the unifier of its operator', async () => {
    /** A unifier (of Fragile's partitions) that fails on its first tuple of window 2. */
    class FragileUnifier extends Operator {
      readonly out = this.output<number>();
      private ctx!: OperatorContext;
      readonly in = this.input<number>((n) => {
        if (this.ctx.windowId === 2) throw new Error('unifier boom');
        this.out.emit(n);
      });

      override setup(ctx: OperatorContext): void {
        this.ctx = ctx;
      }
    }
    const app = application('unifier-failure', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 20, batch: 7 }, { partitions: 2 });
      const op = dag.add(
        'fragile',
        Fragile,
        { window: -1, phase: 'tuple', mode: 'once', key: 'never' },
        { unifier: FragileUnifier },
      );
      const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
      dag.stream('numbers', src.out, op.in).parallel();
      dag.stream('sums', op.out, sink.in);
    });
    const { run } = await start(app, { windows: 4, restart: RestartStrategy.stop() });
    const err = await failureOf(run.done);
    expect(err.operator).toBe('fragile');
    expect(err.actorId).toBe('sums:unifier');
    expect(err.message).toMatch(
      /^the unifier of operator "fragile" \(sums:unifier\) failed in window 2 during tuple: unifier boom/,
    );
  });

  it.each<[Phase, 'operator' | 'source']>([
    ['tuple', 'operator'],
    ['endWindow', 'operator'],
    ['endWindowAsync', 'operator'],
    ['tuple', 'source'],
  ])(
    'recovers from a single throw (%s of the %s): the output equals a fault-free run',
    async (phase, where) => {
      const reference = new Collected<number>();
      const clean = `clean-${phase}-${where}`;
      thrown.add(clean); // already fired: this run never fails
      await runToEnd(pipeline('recover', reference, { window: 5, phase, mode: 'once', key: clean }, where), {
        windows: 9,
        checkpointWindowCount: 2,
      });
      expect(reference.all()).toHaveLength(9 * 20);

      const key = `once-${phase}-${where}`;
      thrown.delete(key);
      const out = new Collected<number>();
      const { events } = await runToEnd(
        pipeline('recover', out, { window: 5, phase, mode: 'once', key }, where),
        { windows: 9, checkpointWindowCount: 2 },
      );
      expect(thrown.has(key)).toBe(true);
      expect(eventsOf(events, 'failure')).toHaveLength(1);
      expect(eventsOf(events, 'restart')).toHaveLength(1);
      expect(eventsOf(events, 'recovered')).toHaveLength(1);
      expect(out.windows).toEqual(reference.windows);
    },
  );

  it('escalates after the restart limit when an operator throws every time', async () => {
    const key = 'always-tuple';
    thrown.delete(key);
    const app = pipeline(key, new Collected(), { window: 3, phase: 'tuple', mode: 'always', key });
    const restart = RestartStrategy.restart().withLimit(2, 60_000).withBackoff(0, 0);
    const { run, events } = await start(app, { windows: 8, checkpointWindowCount: 2, restart });
    const err = await failureOf(run.done);
    expect(err.operator).toBe('fragile');
    expect(err.window).toBe(3);
    const failures = eventsOf(events, 'failure');
    expect(failures).toHaveLength(3);
    for (const f of failures) {
      expect(f).toMatchObject({ operator: 'fragile', actorId: 'fragile', window: 3, phase: 'tuple' });
      expect(f.error).toBeInstanceOf(Error);
    }
    const restarts = eventsOf(events, 'restart');
    expect(restarts.map((r) => r.attempt)).toEqual([1, 2]);
    for (const r of restarts) {
      expect(r.actors).toEqual(expect.arrayContaining(['fragile', 'sink']));
      expect(r.delayMs).toBe(0);
    }
    // Failure, then its restart, in that order.
    expect(events.filter((e) => e.type === 'failure' || e.type === 'restart').map((e) => e.type)).toEqual([
      'failure',
      'restart',
      'failure',
      'restart',
      'failure',
    ]);
  });

  it('reports a stopped event with reason "failure" when a failure stops the application', async () => {
    const key = 'stopped-event';
    thrown.delete(key);
    const app = pipeline(key, new Collected(), { window: 2, phase: 'tuple', mode: 'always', key });
    const { run, events } = await start(app, {
      windows: 5,
      checkpointWindowCount: 2,
      restart: RestartStrategy.stop(),
    });
    await failureOf(run.done);
    const stopped = eventsOf(events, 'stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.reason).toBe('failure');
    expect(events.at(-1)?.type).toBe('stopped');
  });
});

describe('an asynchronous lifecycle call that never settles', () => {
  it('fails its operator after lifecycleTimeoutMs instead of stalling the application', async () => {
    class NeverDone extends Operator {
      readonly in = this.input<number>(() => {});
      override endWindow(): Promise<void> {
        return new Promise(() => {});
      }
    }
    const app = application('never-done', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 1 });
      const sink = dag.add('sink', NeverDone);
      dag.stream('s', src.out, sink.in);
    });
    const run = await launch(app, {
      store: new MemorySnapshotStore(),
      windows: 3,
      virtualTime: true,
      lifecycleTimeoutMs: 50,
      restart: RestartStrategy.stop(),
    });
    await expect(run.done).rejects.toThrow(
      /operator "sink" \(sink\) failed in window 1 during endWindow: endWindow did not finish within 50 ms/,
    );
  });
});
