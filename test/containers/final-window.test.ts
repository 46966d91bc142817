import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { launch } from '../../src/index.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';
import { runWithFaults } from '../../src/testkit/index.ts';
import { readWindowFiles, removeDir, tempDir } from '../recovery/fixtures.ts';
import chainApp from './apps/chain.ts';
import pairApp from './apps/pair.ts';

/*
 * Container failures at the edges of a run bounded by `windows`: at its final window (the replacement
 * must not wait for windows no input will open, and the final commit must still be reached) and at its
 * first, on 2 and 3 containers — on 3, the two-actor application leaves one container without actors.
 */
const WINDOWS = 6;
const PAIR = new URL('./apps/pair.ts', import.meta.url);
const dirs: string[] = [];

afterEach(() => {
  delete process.env.CHAIN_OUT;
  for (const d of dirs.splice(0)) removeDir(d);
});

const cases = [
  { containers: 2, container: 1, window: WINDOWS },
  { containers: 2, container: 0, window: 1 },
  { containers: 3, container: 0, window: WINDOWS },
  { containers: 3, container: 1, window: 1 },
] as const;

for (const { containers, container, window } of cases) {
  test(`container ${container} of ${containers} killed at window ${window} of ${WINDOWS}: the run ends with the output of a fault-free run`, async () => {
    const options = { windows: WINDOWS, checkpointWindowCount: 1 };
    const expected = await runWithFaults(pairApp, options);
    expect(expected.error).toBeUndefined();
    const actual = await runWithFaults(pairApp, {
      ...options,
      containers,
      module: PAIR,
      faults: [{ kind: 'container-kill', container, window }],
      heartbeatTimeoutMs: 1_500,
      // Long enough for containers to spawn on a loaded machine; a stall is a failure, not a hang.
      stallMs: 30_000,
    });
    expect(actual.error).toBeUndefined();
    expect(actual.faultsFired).toHaveLength(1);
    expect(actual.outputs).toEqual(expected.outputs);
    expect([...(actual.outputs.get('sink')?.keys() ?? [])]).toHaveLength(WINDOWS);
  }, 120_000);
}

/**
 * The sink's snapshot of the final window is durable, but its container fails before the `checkpointed`
 * notice reaches the main thread (here: the store never acknowledges that write, and the sink fails right
 * after it). The replacement restores at that window and never checkpoints it again, so the main thread
 * must count the snapshot it restored from, or the final window is never committed and the run never ends.
 */
test('a container replaced after its final snapshot was written, but before it was reported, still lets the run commit and end', async () => {
  const ref = tempDir('final-window');
  dirs.push(ref);
  process.env.CHAIN_OUT = join(ref, 'out');
  const undisturbed = await launch(chainApp, {
    store: join(ref, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    checkpointWindowCount: 1,
  });
  await undisturbed.done;

  const dir = tempDir('final-window');
  dirs.push(dir);
  process.env.CHAIN_OUT = join(dir, 'out');
  let failSink: () => void = () => {};
  const store = new (class extends MemorySnapshotStore {
    private held = false;
    override async saveSnapshot(actorId: string, window: number, state: unknown): Promise<void> {
      await super.saveSnapshot(actorId, window, state);
      if (this.held || actorId !== 'files' || window !== WINDOWS) return;
      this.held = true;
      failSink();
      await new Promise<never>(() => {}); // never acknowledged: the container dies first
    }
  })();
  const restarts: { actors: readonly string[]; window: number }[] = [];
  const run = await launch(chainApp, {
    containers: 3,
    module: new URL('./apps/chain.ts', import.meta.url),
    store,
    windows: WINDOWS,
    virtualTime: true,
    checkpointWindowCount: 1,
  });
  failSink = () => run.failActor('files', 'fails after its final snapshot was written');
  run.on('status', (e) => {
    if (e.type === 'restart') restarts.push({ actors: e.actors, window: e.window });
  });
  await run.done;
  // Only the sink's container, restored at the final window from the snapshot nobody reported.
  expect(restarts).toEqual([{ actors: ['files'], window: WINDOWS }]);
  expect(run.stats()).toMatchObject({ window: WINDOWS, committed: WINDOWS, restarts: 1 });
  expect(readWindowFiles(join(dir, 'out'))).toEqual(readWindowFiles(join(ref, 'out')));
}, 120_000);
