import { expect, test } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore, Operator, type StatusEvent } from '../../src/index.ts';

const failAt = { window: 0 };

class Sums extends Operator<{ sum: number }> {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => {
    if (failAt.window > 0 && n === (failAt.window - 1) * 10 + 5) {
      failAt.window = 0;
      throw new Error('injected');
    }
    this.state.sum += n;
    this.out.emit(this.state.sum);
  });
  override initialState() {
    return { sum: 0 };
  }
}

const app = (into: Collected<number>) =>
  application('corrupt-in-run', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 10 });
    const sums = dag.add('sums', Sums);
    const sink = dag.add('sink', CollectSink<number>, { into });
    dag.stream('numbers', src.out, sums.in);
    dag.stream('sums', sums.out, sink.in);
  });

test('a recovery that finds its checkpoint corrupt falls back to an older one for every actor, says so, and loses nothing', async () => {
  const expected = new Collected<number>();
  await (
    await launch(app(expected), {
      store: new MemorySnapshotStore(),
      windows: 12,
      virtualTime: true,
      checkpointWindowCount: 3,
    })
  ).done;

  const actual = new Collected<number>();
  const store = new MemorySnapshotStore();
  const run = await launch(app(actual), { store, windows: 12, virtualTime: true, checkpointWindowCount: 3 });
  const events: StatusEvent[] = [];
  failAt.window = 7; // sums fails in window 7
  run.on('status', (e) => {
    events.push(e);
    // The disk damages the checkpoint the recovery is about to read (heard before it chooses its window).
    if (e.type === 'failure') store.corrupt('sums', 6);
  });
  await run.done;
  const warnings = events
    .filter((e) => e.type === 'warning')
    .map((e) => (e.type === 'warning' ? e.message : ''));
  expect(warnings.join('\n')).toMatch(/sums.*6.*falls back to an older checkpoint/s);
  const recovered = events.find((e) => e.type === 'recovered');
  expect(recovered?.type === 'recovered' && recovered.window).toBe(3);
  expect([...actual.windows]).toEqual([...expected.windows]);
});

test('a relaunch whose kept checkpoints are all damaged is refused with SLUICE_NO_VALID_CHECKPOINT, not restarted from scratch', async () => {
  const store = new MemorySnapshotStore();
  await (
    await launch(app(new Collected<number>()), {
      store,
      windows: 9,
      virtualTime: true,
      checkpointWindowCount: 3,
    })
  ).done;
  store.corrupt('sums', 9);
  store.corrupt('sums', 6);
  const again = await launch(app(new Collected<number>()), {
    store,
    windows: 12,
    virtualTime: true,
    checkpointWindowCount: 3,
  });
  await expect(again.done).rejects.toMatchObject({ code: 'SLUICE_NO_VALID_CHECKPOINT' });
});
