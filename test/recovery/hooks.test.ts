import { expect, test } from 'vitest';
import { SequenceSource } from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore, Operator } from '../../src/index.ts';

type Calls = string[];

class Recorder extends Operator<{ n: number }, { calls: Calls }> {
  private inWindow = false;
  readonly in = this.input<number>(() => {
    this.state.n++;
  });
  override initialState() {
    return { n: 0 };
  }
  override beginWindow(): void {
    this.inWindow = true;
  }
  override endWindow(): void {
    this.inWindow = false;
  }
  override checkpointed(w: number): void {
    this.props.calls.push(`checkpointed ${w}${this.inWindow ? ' (inside a window!)' : ''}`);
  }
  override committed(w: number): void {
    this.props.calls.push(`committed ${w}${this.inWindow ? ' (inside a window!)' : ''}`);
  }
}

test('checkpointed(w) and committed(w) are called between windows for every checkpoint, in order', async () => {
  const calls: Calls = [];
  const app = application('hooks', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
    const rec = dag.add('rec', Recorder, { calls });
    dag.stream('s', src.out, rec.in);
  });
  const run = await launch(app, {
    store: new MemorySnapshotStore(),
    windows: 9,
    checkpointWindowCount: 3,
    virtualTime: true,
  });
  await run.done;
  expect(calls).toEqual([
    'checkpointed 3',
    'committed 3',
    'checkpointed 6',
    'committed 6',
    'checkpointed 9',
    'committed 9',
  ]);
});

test('a relaunch after a clean stop at window 5 continues to window 10 as if it had never stopped', async () => {
  const { Collected, CollectSink } = await import('../../actors/index.ts');
  const build = (into: InstanceType<typeof Collected<number>>) =>
    application('continue', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 2 });
      const sink = dag.add('sink', CollectSink<number>, { into });
      dag.stream('s', src.out, sink.in);
    });
  const straight = new Collected<number>();
  await (await launch(build(straight), { store: new MemorySnapshotStore(), windows: 10, virtualTime: true }))
    .done;

  const resumed = new Collected<number>();
  const store = new MemorySnapshotStore();
  await (await launch(build(resumed), { store, windows: 5, virtualTime: true })).done;
  const second = await launch(build(resumed), { store, windows: 10, virtualTime: true });
  const started: number[] = [];
  second.on('status', (e) => {
    if (e.type === 'started') started.push(e.restoredWindow, e.firstWindow);
  });
  await second.done;
  expect(started).toEqual([5, 6]);
  expect([...resumed.windows]).toEqual([...straight.windows]);
});
