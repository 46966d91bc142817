import { expect, test } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, InputOperator } from '../../src/index.ts';
import { chaos, describeVerdict, firstDifference, runWithFaults, streamOf } from '../../src/testkit/index.ts';

/** A per-window quota kept in a transient field: whatever a cut leaves owing is forgotten. */
class ForgetfulQuota extends InputOperator<{ next: number }> {
  readonly out = this.output<number>();
  private left = 0;
  override initialState() {
    return { next: 0 };
  }
  override beginWindow(): void {
    this.left = 6;
  }
  emitTuples(): void {
    for (let i = 0; i < 2 && this.left > 0; i++, this.left--) this.out.emit(this.state.next++);
  }
}

const pipe = (source: typeof SequenceSource | typeof ForgetfulQuota) =>
  application('pipe', (dag) => {
    const src = dag.add('src', source, { tuplesPerWindow: 6, batch: 2 });
    const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
    dag.stream('numbers', src.out, sink.in);
  });

test('a cut fault moves a window boundary; what the source owed arrives in the next window', async () => {
  const app = pipe(SequenceSource);
  const uncut = await runWithFaults(app, { windows: 6 });
  const cut = await runWithFaults(app, {
    windows: 6,
    faults: [{ kind: 'cut', actor: 'src', window: 2, calls: 1 }],
  });
  expect(cut.faultsFired).toHaveLength(1);
  expect(cut.outputs.get('sink')?.get(2)).toEqual([6, 7]);
  expect(cut.outputs.get('sink')?.get(3)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  expect(cut.boundaries.get('src')?.get(2)).toEqual([2]);
  expect(firstDifference(uncut.outputs, cut.outputs)).toBeDefined();
  expect(firstDifference(streamOf(uncut.outputs), streamOf(cut.outputs))).toBeUndefined();
});

test('a run held to another run’s boundaries has its windows, failures or not', async () => {
  const app = pipe(SequenceSource);
  const cut = await runWithFaults(app, {
    windows: 8,
    faults: [
      { kind: 'cut', actor: 'src', window: 3, calls: 2 },
      { kind: 'cut', actor: 'src', window: 5, calls: 1 },
    ],
  });
  const held = await runWithFaults(app, {
    windows: 8,
    boundaries: cut.boundaries,
    faults: [
      { kind: 'throw', actor: 'sink', window: 6, call: 'tuple', tuple: 1 },
      { kind: 'relaunch', window: 7 },
    ],
  });
  expect(held.error).toBeUndefined();
  expect(held.outputs).toEqual(cut.outputs);
});

test('chaos notes that a source forgetting what it owed changes the stream, and fails it on request', async () => {
  const good = await chaos(pipe(SequenceSource), { runs: 20, seed: 5, boundaryIndependent: true });
  expect(good.ok, describeVerdict(good)).toBe(true);
  expect(good.boundaryDependence).toBeUndefined();
  const noted = await chaos(pipe(ForgetfulQuota), { runs: 20, seed: 5 });
  expect(noted.ok, describeVerdict(noted)).toBe(true);
  expect(describeVerdict(noted)).toMatch(
    /note: the output depends on window boundaries \(sink sink: lost tuple/,
  );
  // The window logs show the source behind after the cut: said as a warning, naming it.
  expect(describeVerdict(noted)).toMatch(
    /WARNING: over the same windows src emitted \d+ fewer tuples when a window was cut/,
  );
  expect(describeVerdict(good)).not.toMatch(/WARNING/);
  const strict = await chaos(pipe(ForgetfulQuota), { runs: 20, seed: 5, boundaryIndependent: true });
  expect(strict.ok).toBe(false);
  expect(describeVerdict(strict)).toMatch(/FAILED with seed 5: the output depends on window boundaries/);
});
