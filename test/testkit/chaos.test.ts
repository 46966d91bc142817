import { expect, test } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { application, Operator, type OutputHandle } from '../../src/index.ts';
import { chaos, describeVerdict, runWithFaults } from '../../src/testkit/index.ts';

class KeyedSum extends Operator<{ sums: Record<string, number> }> {
  readonly out = this.output<{ k: number; sum: number }>();
  readonly in = this.input<number>((n) => {
    const k = n % 4;
    this.state.sums[k] = (this.state.sums[k] ?? 0) + n;
    this.out.emit({ k, sum: this.state.sums[k]! });
  });
  override initialState() {
    return { sums: {} };
  }
}

/** Keeps its running sum outside `this.state`: a restore cannot bring it back. */
class ForgetfulSum extends Operator {
  private sum = 0;
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => this.out.emit((this.sum += n)));
}

const sums = (op: typeof KeyedSum | typeof ForgetfulSum) =>
  application('sums', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 6, batch: 4 });
    const sum = dag.add('sum', op, undefined, { partitions: 2 });
    const sink = dag.add('sink', CollectSink<unknown>, { into: new Collected() });
    dag.stream('numbers', src.out, sum.in).keyBy((n) => n % 4);
    dag.stream('sums', sum.out as OutputHandle<unknown>, sink.in);
  });

test('chaos passes an application that keeps its state in this.state, and restores really happen', async () => {
  const verdict = await chaos(sums(KeyedSum), { runs: 40, seed: 1234 });
  expect(verdict.ok, describeVerdict(verdict)).toBe(true);
  expect(verdict.restoredRuns).toBeGreaterThan(10);
  expect(describeVerdict(verdict)).toContain('seed 1234');
});

/** A sink written as a plain operator: appends each window's tuples "elsewhere" at endWindow, unfenced. */
class AppendingSink extends Operator<{}, { lines: string[] }> {
  private window: unknown[] = [];
  readonly in = this.input<unknown>((t) => this.window.push(t));
  override endWindow(): void {
    this.props.lines.push(JSON.stringify(this.window));
    this.window = [];
  }
}

test('chaos passes a plain-operator sink but says it is no WindowFencedOutput (its own writes repeat on replay)', async () => {
  const app = application('appending', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 6, batch: 4 });
    const sink = dag.add('appender', AppendingSink, { lines: [] });
    dag.stream('numbers', src.out, sink.in);
  });
  const verdict = await chaos(app, { runs: 5, seed: 3 });
  expect(verdict.ok, describeVerdict(verdict)).toBe(true);
  expect(verdict.unfencedSinks).toEqual(['appender']);
  expect(describeVerdict(verdict)).toContain(
    'note: appender is a sink but no WindowFencedOutput: the tuples it receives are exactly once (checked here), but anything it writes elsewhere',
  );
  const fencedOnly = await chaos(sums(KeyedSum), { runs: 2, seed: 1 });
  expect(fencedOnly.unfencedSinks).toBeUndefined();
});

test('chaos catches state kept outside this.state, names the seed and a small fault schedule', async () => {
  const verdict = await chaos(sums(ForgetfulSum), { runs: 40, seed: 99 });
  expect(verdict.ok).toBe(false);
  expect(verdict.counterexample?.faults.length).toBeGreaterThan(0);
  expect(describeVerdict(verdict)).toMatch(/FAILED with seed 99: sink sum|sink sink/);
});

test('the same seed finds the same counterexample (a failure replays)', async () => {
  const a = await chaos(sums(ForgetfulSum), { runs: 30, seed: 7 });
  const b = await chaos(sums(ForgetfulSum), { runs: 30, seed: 7 });
  expect(b.counterexample).toEqual(a.counterexample);
});

test('runWithFaults relaunches after a kill and records every window exactly once', async () => {
  const app = sums(KeyedSum);
  const clean = await runWithFaults(app, { windows: 10 });
  const faulty = await runWithFaults(app, {
    windows: 10,
    faults: [
      { kind: 'relaunch', window: 6 },
      { kind: 'throw', actor: 'sum#1', window: 8, call: 'tuple', tuple: 2 },
    ],
  });
  expect(faulty.relaunches).toBe(1);
  expect(faulty.faultsFired).toHaveLength(2);
  expect(faulty.restoredAt.filter((w) => w > 0).length).toBe(2);
  expect(faulty.outputs).toEqual(clean.outputs);
});

test('chaos gives a verdict for an application that fails without faults, and names non-determinism', async () => {
  class AlwaysFails extends Operator {
    readonly out = this.output<number>();
    readonly in = this.input<number>((n) => {
      if (n > 20) throw new Error('boom');
      this.out.emit(n);
    });
  }
  class Noisy extends Operator {
    readonly out = this.output<number>();
    readonly in = this.input<number>((n) => this.out.emit(n + Math.floor(Math.random() * 1000) * 1000));
  }
  const pipe = (op: typeof AlwaysFails | typeof Noisy) =>
    application('pipe', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 6, batch: 4 });
      const mid = dag.add('mid', op);
      const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
      dag.stream('numbers', src.out, mid.in);
      dag.stream('out', mid.out, sink.in);
    });
  const failing = await chaos(pipe(AlwaysFails), { runs: 5, seed: 1 });
  expect(failing.ok).toBe(false);
  expect(describeVerdict(failing)).toMatch(
    /^FAILED with seed 1: the application fails without any fault: .*boom/,
  );
  const noisy = await chaos(pipe(Noisy), { runs: 5, seed: 1 });
  expect(noisy.ok).toBe(false);
  expect(describeVerdict(noisy)).toMatch(
    /smallest fault schedule: no faults\n {2}no fault was needed: runs without faults differ, so the application is not deterministic/,
  );
});

test('chaos on containers without the application module is a usage error, thrown, not a failed verdict', async () => {
  await expect(chaos(sums(KeyedSum), { runs: 1, seed: 1, containers: 2 })).rejects.toMatchObject({
    code: 'SLUICE_INVALID_OPTION',
    message: expect.stringContaining('containers needs module'),
  });
});

test('runWithFaults refuses a fault it would never fire: an unknown kind, a container fault at window 0', async () => {
  const app = sums(KeyedSum);
  await expect(
    runWithFaults(app, { windows: 2, faults: [{ kind: 'container', container: 1, window: 2 } as never] }),
  ).rejects.toMatchObject({
    code: 'SLUICE_INVALID_OPTION',
    message: expect.stringContaining("'container-kill' here"),
  });
  await expect(
    runWithFaults(app, { windows: 2, faults: [{ kind: 'container-kill', container: 1, window: 0 }] }),
  ).rejects.toMatchObject({
    code: 'SLUICE_INVALID_OPTION',
    message: expect.stringContaining('a window ≥ 1'),
  });
});
