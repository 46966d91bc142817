import { expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore } from '../../src/index.ts';
import { runWithFaults } from '../../src/testkit/index.ts';

/** One Collected behind every partition of a sink, as a test naturally writes it. */
const partitioned = (into: Collected<number>) =>
  application('collect', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 6, batch: 2 });
    const sink = dag.add('sink', CollectSink<number>, { into }, { partitions: 2 });
    dag.stream('numbers', src.out, sink.in).keyBy((n) => n % 2);
  });

it('keeps the tuples of every partition of a sink, each partition fenced on its own', async () => {
  const into = new Collected<number>();
  const run = await launch(partitioned(into), {
    store: new MemorySnapshotStore(),
    windows: 4,
    virtualTime: true,
  });
  await run.done;
  // Both partitions' tuples of each window (one partition's apply replaced the other's before).
  expect(into.all().sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  expect(into.windows.get(2)!.sort((a, b) => a - b)).toEqual([6, 7, 8, 9, 10, 11]);
  expect([into.lastWindow, into.lastApplied.get('sink#0'), into.lastApplied.get('sink#1')]).toEqual([
    4, 4, 4,
  ]);
});

it("a restored partition reads its own last window, not the other partition's (no window applied twice)", async () => {
  const faults = [{ kind: 'throw' as const, actor: 'sink#0', window: 3, call: 'endWindow' as const }];
  const result = await runWithFaults(partitioned(new Collected<number>()), {
    windows: 5,
    checkpointWindowCount: 1,
    faults,
  });
  expect(result.faultsFired).toHaveLength(1);
  expect(result.error).toBeUndefined();
});
