import { describe, expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import {
  type Application,
  application,
  DagError,
  launch,
  MemorySnapshotStore,
  Operator,
  RestartStrategy,
  SluiceError,
  type StatusEvent,
} from '../../src/index.ts';
import { eventsOf, runToEnd, start } from './kit.ts';

function numbers(into: Collected<number>, tuplesPerWindow = 10): Application {
  return application('numbers', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow, batch: 4 });
    const sink = dag.add('sink', CollectSink<number>, { into });
    dag.stream('numbers', src.out, sink.in).locality('container');
  });
}

/** Resolves once the run reports `window` done. */
function windowDone(run: { on(e: 'status', l: (e: StatusEvent) => void): unknown }, window: number) {
  return new Promise<void>((resolve) =>
    run.on('status', (e) => {
      if (e.type === 'window' && e.window >= window) resolve();
    }),
  );
}

describe('the Run API', () => {
  it('stop() ends a run without `windows` gracefully: final checkpoint, commit, stopped event', async () => {
    const into = new Collected<number>();
    const { run, events } = await start(numbers(into), { checkpointWindowCount: 5 });
    await windowDone(run, 3);
    await run.stop();
    const stopped = eventsOf(events, 'stopped');
    expect(stopped).toHaveLength(1);
    const last = stopped[0]!;
    expect(last.reason).toBe('stop');
    expect(last.window).toBeGreaterThanOrEqual(3);
    // The final window was checkpointed and committed although it is not a multiple of 5.
    expect(last.committed).toBe(last.window);
    expect(eventsOf(events, 'commit').at(-1)?.window).toBe(last.window);
    const finalCheckpoints = eventsOf(events, 'checkpoint').filter((e) => e.window === last.window);
    expect(finalCheckpoints.map((e) => e.actorId).sort()).toEqual(['sink', 'src']);
    expect(events.at(-1)).toBe(last);
    // Every window up to the last was applied; stop() may cut the last one short, but loses nothing.
    expect(into.lastWindow).toBe(last.window);
    const all = into.all();
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i));
    expect(all.length).toBeGreaterThan(10 * (last.window - 1));
    expect(all.length).toBeLessThanOrEqual(10 * last.window);
    expect(run.stats().committed).toBe(last.window);
  });

  it('stop() resolves when the run is done, and a second stop() is harmless', async () => {
    const { run } = await start(numbers(new Collected()), { checkpointWindowCount: 2 });
    await windowDone(run, 2);
    await Promise.all([run.stop(), run.stop()]);
    await expect(run.done).resolves.toBeUndefined();
    await expect(run.stop()).resolves.toBeUndefined();
  });

  it('stop() resolves also when the run then fails: the failure is done’s, never an unhandled rejection', async () => {
    class FailsAtEnd extends Operator {
      readonly in = this.input<number>(() => {});
      override endWindow(): void {
        throw new Error('fails at every window end');
      }
    }
    const app = application('fails', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
      const sink = dag.add('sink', FailsAtEnd);
      dag.stream('numbers', src.out, sink.in);
    });
    const run = await launch(app, { store: new MemorySnapshotStore(), virtualTime: true });
    const done = run.done.then(
      () => 'done',
      (e: Error) => e.message,
    );
    // Called once window 1 is open, not awaited and not caught, as in a signal handler: it must not reject.
    let stopping: Promise<void> | undefined;
    run.on('status', (e) => {
      if (e.type === 'failure') stopping ??= run.stop();
    });
    await done;
    await expect(stopping).resolves.toBeUndefined();
    expect(await done).toMatch(/fails at every window end; not restarted/);
  });

  it('stats() counts windows, commits and tuples per operator', async () => {
    const { run } = await runToEnd(numbers(new Collected(), 25), { windows: 4, checkpointWindowCount: 2 });
    const stats = run.stats();
    expect(stats.window).toBe(4);
    expect(stats.committed).toBe(4);
    expect(stats.restarts).toBe(0);
    expect(stats.tuples).toBe(100);
    expect(stats.operators).toEqual(
      expect.arrayContaining([
        { actorId: 'src', operator: 'src', tuples: 100, queued: 0, window: 4 },
        { actorId: 'sink', operator: 'sink', tuples: 100, queued: 0, window: 4 },
      ]),
    );
    expect(stats.operators).toHaveLength(2);
  });

  it('reports typed status events: started, window, checkpoint, commit, stopped, in order', async () => {
    const { events } = await runToEnd(numbers(new Collected()), { windows: 4, checkpointWindowCount: 2 });
    expect(events[0]).toEqual({
      type: 'started',
      application: 'numbers',
      actors: 2,
      firstWindow: 1,
      restoredWindow: 0,
    });
    expect(eventsOf(events, 'window')).toEqual(
      [1, 2, 3, 4].map((w) => ({ type: 'window', window: w, tuples: 10 * w })),
    );
    const checkpoints = eventsOf(events, 'checkpoint');
    expect(checkpoints.map((e) => `${e.actorId}@${e.window}`).sort()).toEqual([
      'sink@2',
      'sink@4',
      'src@2',
      'src@4',
    ]);
    expect(eventsOf(events, 'commit').map((e) => e.window)).toEqual([2, 4]);
    expect(events.at(-1)).toEqual({ type: 'stopped', window: 4, committed: 4, reason: 'windows' });
    // A window is committed only after it is done, and after every actor checkpointed it.
    for (const commit of eventsOf(events, 'commit')) {
      const at = events.indexOf(commit);
      const done = events.findIndex((e) => e.type === 'window' && e.window === commit.window);
      expect(done).toBeGreaterThanOrEqual(0);
      expect(done).toBeLessThan(at);
      for (const id of ['src', 'sink']) {
        const cp = events.findIndex(
          (e) => e.type === 'checkpoint' && e.actorId === id && e.window === commit.window,
        );
        expect(cp).toBeGreaterThanOrEqual(0);
        expect(cp).toBeLessThan(at);
      }
    }
    expect(events.filter((e) => e.type === 'failure' || e.type === 'warning')).toEqual([]);
  });

  it('resolves run.done only once `windows` are done and committed', async () => {
    const into = new Collected<number>();
    const { events } = await runToEnd(numbers(into), { windows: 5, checkpointWindowCount: 2 });
    // 5 is not a multiple of 2: the last window is checkpointed anyway so that the run ends committed.
    expect(eventsOf(events, 'commit').map((e) => e.window)).toEqual([2, 4, 5]);
    expect(into.lastWindow).toBe(5);
  });

  it.each([
    ['windows: 0', { windows: 0 }, 'windows'],
    ['windows: 2.5', { windows: 2.5 }, 'windows'],
    ['checkpointWindowCount: -1', { checkpointWindowCount: -1 }, 'checkpointWindowCount'],
    ['streamingWindowMs: 0', { streamingWindowMs: 0 }, 'streamingWindowMs'],
    ['streamingWindowMs: 0.001', { streamingWindowMs: 0.001 }, 'streamingWindowMs'],
    ['streamingWindowMs: NaN', { streamingWindowMs: Number.NaN }, 'streamingWindowMs'],
    ['streamingWindowMs: Infinity', { streamingWindowMs: Number.POSITIVE_INFINITY }, 'streamingWindowMs'],
    ['lifecycleTimeoutMs: -1', { lifecycleTimeoutMs: -1 }, 'lifecycleTimeoutMs'],
    ['mailboxCapacity: 0', { mailboxCapacity: 0 }, 'mailboxCapacity'],
    ['batchSize: 1.5', { batchSize: 1.5 }, 'batchSize'],
    ['virtualTime.callsPerWindow: 0', { virtualTime: { callsPerWindow: 0 } }, 'callsPerWindow'],
    ['replayFrom: "bogus" (from JavaScript)', { replayFrom: 'bogus' as 'buffers' }, 'replayFrom'],
    ['heartbeatTimeoutMs: -5', { heartbeatTimeoutMs: -5 }, 'heartbeatTimeoutMs'],
    [
      'heartbeatTimeoutMs: 1 (below the heartbeat interval)',
      { heartbeatTimeoutMs: 1 },
      'heartbeatTimeoutMs (a number of milliseconds ≥ 200',
    ],
    ['containers: -1', { containers: -1 }, 'containers'],
    ['containers: 1.5', { containers: 1.5 }, 'containers'],
    ['restart: "bogus" (from JavaScript)', { restart: 'bogus' as never }, 'RestartStrategy'],
  ])('launch rejects a bad option (%s) with a clear error', async (_, option, name) => {
    const store = new MemorySnapshotStore();
    const launched = launch(numbers(new Collected()), { store, virtualTime: true, ...option });
    const err = await launched.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('SLUICE_INVALID_OPTION');
    expect((err as SluiceError).message).toContain(name);
    // Nothing was started: the store was never opened, so it is free for another run.
    expect(store.data.locked).toBe(false);
  });

  it.each([
    ['streamingWindowMs: 0', { streamingWindowMs: 0 }, 'streamingWindowMs'],
    [
      'streamingWindowMs: "100" (from JavaScript)',
      { streamingWindowMs: '100' as never },
      'streamingWindowMs',
    ],
    ['checkpointWindowCount: 0.5', { checkpointWindowCount: 0.5 }, 'checkpointWindowCount'],
  ])(
    'an application whose own attribute is bad (%s) is refused with its DAG',
    async (_, attributes, name) => {
      const into = new Collected<number>();
      const bad = application(
        'bad-attributes',
        (dag) => {
          const src = dag.add('src', SequenceSource, {});
          const sink = dag.add('sink', CollectSink<number>, { into });
          dag.stream('numbers', src.out, sink.in);
        },
        attributes,
      );
      expect(() => bad.dag()).toThrow(name);
      const err = await launch(bad, { store: new MemorySnapshotStore(), virtualTime: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as SluiceError).code).toBe('SLUICE_INVALID_ATTRIBUTE');
      expect((err as SluiceError).message).toMatch(
        new RegExp(`application "bad-attributes": ${name} must be`),
      );
    },
  );

  it.each([[''], ['  ']])(
    'launch rejects an empty store path (%j): no LevelDB in the working directory',
    async (path) => {
      const err = await launch(numbers(new Collected()), { store: path, virtualTime: true, windows: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as SluiceError).code).toBe('SLUICE_INVALID_OPTION');
      expect((err as SluiceError).message).toContain('store');
    },
  );

  it('launch rejects a store that is neither a path nor a SnapshotStore', async () => {
    const err = await launch(numbers(new Collected()), { store: 5 as never, virtualTime: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as SluiceError).code).toBe('SLUICE_INVALID_OPTION');
    expect((err as SluiceError).message).toMatch(/store \(a directory, or a SnapshotStore\)/);
  });

  it('RestartStrategy refuses limits and backoffs that cannot work', () => {
    expect(() => RestartStrategy.restart().withLimit(-1, 1000)).toThrow(/maxRestarts must be an integer ≥ 0/);
    expect(() => RestartStrategy.restart().withLimit(2.5, 1000)).toThrow(RangeError);
    expect(() => RestartStrategy.restart().withLimit(3, Number.NaN)).toThrow(/withinMs/);
    expect(() => RestartStrategy.restart().withBackoff(100, 10)).toThrow(/0 ≤ minMs ≤ maxMs/);
    expect(() => RestartStrategy.restart().withBackoff(0, 10, 0.5)).toThrow(/factor must be ≥ 1/);
    expect(RestartStrategy.restart().withLimit(0, 0).withBackoff(0, 0).maxRestarts).toBe(0);
  });

  it('launch rejects an invalid DAG with its DagError', async () => {
    const app = application('no-input', () => {});
    await expect(launch(app, { store: new MemorySnapshotStore(), virtualTime: true })).rejects.toBeInstanceOf(
      DagError,
    );
  });
});
