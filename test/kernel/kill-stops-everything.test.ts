import { expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore, type Run } from '../../src/index.ts';

/** A store whose window-log writes take a while, and that kills the run while its write of window 3 waits. */
class KillingLogStore extends MemorySnapshotStore {
  run: Run | undefined;
  protected override async _appendWindowLog(
    actorId: string,
    window: number,
    frame: Uint8Array,
  ): Promise<void> {
    if (window === 3) void this.run?.kill();
    await new Promise((r) => setTimeout(r, 15));
    return super._appendWindowLog(actorId, window, frame);
  }
}

it('run.kill() is a kill -9: nothing ends a window or applies an output after it, awaited writes or not', async () => {
  const into = new Collected<number>();
  const app = application('killed', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 4, batch: 2 });
    const sink = dag.add('sink', CollectSink<number>, { into });
    // Fused: the source's window end, resumed after its window-log write, ends the sink's window itself.
    dag.stream('numbers', src.out, sink.in).locality('thread');
  });
  const store = new KillingLogStore();
  const run = await launch(app, { store, windows: 50, virtualTime: true });
  store.run = run;
  await run.done.catch(() => {});
  const atKill = into.lastWindow;
  await new Promise((r) => setTimeout(r, 100)); // the window-log write of window 3 lands meanwhile
  expect(atKill).toBeLessThan(3);
  expect(into.lastWindow).toBe(atKill);
});
