import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { CHECKPOINTS_AHEAD, WINDOWS_IN_FLIGHT } from '../../src/engine/input-driver.ts';
import { launch } from '../../src/index.ts';
import { LevelSnapshotStore } from '../../src/storage/level-snapshot-store.ts';
import { scratchDirs } from '../recovery/fixtures.ts';
import chainApp from './apps/chain.ts';

/*
 * On virtual time a window is as short as its work, and the window log no longer waits for the store:
 * without a limit the stream would run far ahead of the commit (what a relaunch restores, and what
 * replay retention keeps). Live windows open at most CHECKPOINTS_AHEAD checkpoint intervals past the
 * committed window, in one thread and on containers. A store whose snapshot writes take 40 ms each makes
 * the commit slow; the done window must still stay within the horizon (plus the windows in flight).
 */
const CHAIN = new URL('./apps/chain.ts', import.meta.url);
const scratch = scratchDirs('commit-horizon');
const EVERY = 2; // chain's checkpointWindowCount
const LIMIT = CHECKPOINTS_AHEAD * EVERY + WINDOWS_IN_FLIGHT;

class SlowStore extends LevelSnapshotStore {
  override async saveSnapshot(actorId: string, window: number, state: unknown): Promise<void> {
    const written = super.saveSnapshot(actorId, window, state);
    await new Promise((r) => setTimeout(r, 40));
    return written;
  }
}

afterEach(() => {
  delete process.env.CHAIN_OUT;
});

for (const containers of [0, 3]) {
  test(`a slow store holds the stream within the commit horizon (${containers ? 'containers' : 'one thread'})`, async () => {
    const dir = scratch();
    process.env.CHAIN_OUT = join(dir, 'out');
    const run = await launch(chainApp, {
      store: new SlowStore(join(dir, 'store')),
      windows: 100,
      virtualTime: true,
      containers,
      ...(containers ? { module: CHAIN } : {}),
    });
    let committed = 0;
    let widest = 0;
    run.on('status', (e) => {
      if (e.type === 'commit') committed = Math.max(committed, e.window);
      if (e.type === 'window') widest = Math.max(widest, e.window - committed);
    });
    await run.done;
    expect(committed).toBe(100);
    expect(widest).toBeLessThanOrEqual(LIMIT);
    // The slow store really held it back: without the horizon the windows run far ahead.
    expect(widest).toBeGreaterThan(EVERY);
  });
}
