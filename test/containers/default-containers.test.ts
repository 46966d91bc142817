import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConsoleSink, SequenceSource } from '../../actors/index.ts';
import hello from '../../examples/hello/app.ts';
import { defaultContainers, spreadOver } from '../../src/container/default-containers.ts';
import { application, launch, MemorySnapshotStore, planPhysical } from '../../src/index.ts';

/** A source fused into its sink: one thread-local chain, which no placement can split. */
const chain = application('chain', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 2 });
  const print = dag.add('print', ConsoleSink<number>, { prefix: 'chain ' });
  dag.stream('numbers', numbers.out, print.in).locality('thread');
});

describe('the default container count', () => {
  it('is the cores, capped by the containers the placement fills; 0 (this thread) on one core', () => {
    const plan = planPhysical(hello.dag());
    expect(spreadOver(plan, 1)).toBe(0);
    expect(spreadOver(plan, 2)).toBe(2);
    // 2 sources, squares, evens, print (the unifier goes with squares): never more containers than that.
    expect(spreadOver(plan, 64)).toBeGreaterThanOrEqual(2);
    expect(spreadOver(plan, 64)).toBeLessThanOrEqual(5);
    expect(defaultContainers(hello, { module: 'hello.ts' }, 2)).toBe(2);
  });

  it('is 0 for a plan that cannot be split: one thread-local chain', () => {
    expect(spreadOver(planPhysical(chain.dag()), 8)).toBe(0);
    expect(defaultContainers(chain, { module: 'chain.ts' }, 8)).toBe(0);
  });

  it('is 0 without a module, and with options only one thread honours', () => {
    expect(defaultContainers(hello, {}, 8)).toBe(0);
    expect(defaultContainers(hello, { module: 'hello.ts', replayFrom: 'buffers' }, 8)).toBe(0);
    expect(defaultContainers(hello, { module: 'hello.ts', instrument: (p) => p }, 8)).toBe(0);
    const cutAt = () => undefined;
    expect(defaultContainers(hello, { module: 'hello.ts', virtualTime: { cutAt } }, 8)).toBe(0);
    expect(defaultContainers(hello, { module: 'hello.ts', virtualTime: true }, 8)).toBe(
      spreadOver(planPhysical(hello.dag()), 8),
    );
  });

  it('launch() with containers 0 runs in this thread; with replayFrom buffers and containers it refuses', async () => {
    const store = new MemorySnapshotStore();
    const run = await launch(chain, {
      containers: 0,
      module: 'unused.ts',
      store,
      windows: 1,
      virtualTime: true,
    });
    expect(run.plan.actors.every((a) => a.container === undefined)).toBe(true);
    await run.done;
    await expect(launch(hello, { containers: 2, module: 'hello.ts', replayFrom: 'buffers' })).rejects.toThrow(
      /replayFrom 'buffers' cannot be used with containers.*containers: 0/,
    );
  });

  it('refuses a count no plan here can use (each container a worker thread) instead of running out of memory', async () => {
    const most = Math.max(planPhysical(hello.dag()).actors.length, 4 * availableParallelism());
    await expect(
      launch(hello, { containers: most + 1, module: 'hello.ts', store: new MemorySnapshotStore() }),
    ).rejects.toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
      message: expect.stringContaining(`use at most ${most}`),
    });
  });

  it.each([
    ['streamingWindowMs: 0', { streamingWindowMs: 0 }],
    ['checkpointWindowCount: -1', { checkpointWindowCount: -1 }],
    ['windows: 1.5', { windows: 1.5 }],
  ])('on containers too, launch refuses a bad number (%s) before a worker starts', async (_, option) => {
    const store = new MemorySnapshotStore();
    await expect(
      launch(hello, { containers: 2, module: 'hello.ts', store, ...option }),
    ).rejects.toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
    });
    expect(store.data.locked).toBe(false);
  });
});

describe('an application module that builds another DAG in a worker', () => {
  it("is refused before anything runs, as the user's error, naming the actors that differ", async () => {
    // The app given to launch is not what the module's default export (what workers load) builds.
    const other = application('counted', (dag) => {
      const numbers = dag.add('extra', SequenceSource, { tuplesPerWindow: 1 });
      const print = dag.add('print', ConsoleSink<number>, { prefix: 'x ' });
      dag.stream('x', numbers.out, print.in);
    });
    const run = launch(other, {
      containers: 2,
      module: new URL('./apps/counted.ts', import.meta.url),
      store: new MemorySnapshotStore(),
      windows: 1,
    });
    await expect(run.then((r) => r.done)).rejects.toMatchObject({
      code: 'SLUICE_APP_DIFFERS',
      message: expect.stringMatching(/in the main thread's plan only: .*extra@/),
    });
  }, 60_000);
});
