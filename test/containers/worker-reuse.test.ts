import { afterEach, expect, test } from 'vitest';
import { ContainerHandle, type HandleListener } from '../../src/container/container-handle.ts';
import type { ContainerEvent, DeployConfig } from '../../src/container/protocol.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';

/*
 * A worker given up by its handle (ContainerHandle.release: a cluster node's restart of every container)
 * hosts a new deploy: the first deploy's actors end in it, its ports close, and the next handle drives the
 * same thread through the same API proxy. test/containers/apps/sums.ts on 1 container (every actor in it),
 * real worker threads.
 */
const SUMS = new URL('./apps/sums.ts', import.meta.url).href;
const WINDOWS = 4;
const dirs: string[] = [];
const handles: ContainerHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.terminate()));
  delete process.env.SUMS_OUT;
  for (const d of dirs.splice(0)) removeDir(d);
});

/** Deploys the whole app in `handle` (a fresh store: from window 0) and runs it to its last window. */
async function runIn(handle: ContainerHandle, events: ContainerEvent[], finished: Promise<void>) {
  const config: DeployConfig = {
    restoreWindow: 0,
    committed: 0,
    replayableFrom: 0,
    epoch: 1,
    epochMs: 0,
    streamingWindowMs: 20,
    checkpointWindowCount: 0,
    windows: WINDOWS,
    virtualTime: true,
    heartbeatMs: 100,
  };
  const store = new MemorySnapshotStore();
  await store.open();
  await handle.deploy(config, store, { out: {}, in: {} });
  await handle.api.start();
  await finished;
  return events.filter((e) => e.t === 'progress').at(-1);
}

/** A listener that paces the inputs (the application is this container) and reports `finished`. */
function pacing(): { listener: HandleListener; events: ContainerEvent[]; finished: Promise<void> } {
  const events: ContainerEvent[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const listener: HandleListener = {
    event: (h, e) => {
      events.push(e);
      if (e.t === 'progress') h.notify({ t: 'done', window: e.window });
      if (e.t === 'finished') done();
    },
    died: (_h, reason) => events.push({ t: 'status', event: { type: 'warning', message: reason } }),
  };
  return { listener, events, finished };
}

test('a released worker runs a new deploy to the end, the first deploy silent, the same thread', async () => {
  const data = { module: SUMS, applicationName: 'sums', container: 0, containers: 1 };
  const out = tempDir('reuse');
  dirs.push(out);
  process.env.SUMS_OUT = out; // a worker's environment is the process's when it starts
  const first = pacing();
  const a = new ContainerHandle(0, [], 0, data, first.listener);
  handles.push(a);
  expect(await runIn(a, first.events, first.finished)).toMatchObject({ window: WINDOWS });

  const reusable = await a.release(10_000);
  expect(reusable?.worker).toBe(a.worker);
  const heard = first.events.length;
  const second = pacing();
  const b = new ContainerHandle(0, [], 0, data, second.listener, reusable!.worker, reusable!.api);
  handles.push(b);
  expect(await runIn(b, second.events, second.finished)).toMatchObject({ window: WINDOWS });
  expect(b.worker.threadId).toBe(a.worker.threadId);
  // Nothing reached the released handle's listener after the release, nor a `died`.
  expect(first.events.length).toBe(heard);
  expect(second.events.some((e) => e.t === 'status')).toBe(false);
}, 120_000);
