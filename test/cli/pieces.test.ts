import { describe, expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { shellWord } from '../../src/cli/chaos-command.ts';
import { chaosProgress } from '../../src/cli/chaos-progress.ts';
import { CliError, EXIT_FAILED, EXIT_USAGE, errorLine, explain } from '../../src/cli/errors.ts';
import { clusterUrls, hostName, nodeId } from '../../src/cli/options.ts';
import { formatProgress, progressOf } from '../../src/cli/progress.ts';
import { unifierTrees } from '../../src/cli/unifier-trees.ts';
import { DagError } from '../../src/dag/errors.ts';
import { OperatorFailure } from '../../src/engine/failure.ts';
import type { RunStats } from '../../src/engine/status.ts';
import { application, planPhysical, SluiceError, StoreLockedError } from '../../src/index.ts';

describe('explain', () => {
  it('maps each failure to its message and exit code', () => {
    expect(explain(new CliError('no such file: x.ts'))).toEqual({
      message: 'no such file: x.ts',
      exitCode: EXIT_USAGE,
    });
    expect(explain(new DagError('SLUICE_CYCLE', 'a cycle'))).toEqual({
      message: 'invalid DAG (SLUICE_CYCLE): a cycle',
      exitCode: EXIT_USAGE,
    });
    expect(explain(new StoreLockedError('/s')).message).toMatch(/^store in use \(SLUICE_STORE_LOCKED\): /);
    expect(explain(new StoreLockedError('/s')).exitCode).toBe(EXIT_USAGE);
    const failure = new OperatorFailure('op#1', 'op', 7, 'endWindow', new Error('disk full'));
    expect(explain(failure)).toEqual({
      message:
        'run failed (SLUICE_OPERATOR_FAILED): operator "op" (op#1) failed in window 7 during endWindow: disk full',
      exitCode: EXIT_FAILED,
      stack: (failure.cause as Error).stack,
    });
    expect(explain(new SluiceError('SLUICE_INVALID_OPTION', 'bad')).exitCode).toBe(EXIT_USAGE);
    expect(explain(new TypeError('x is undefined'))).toEqual({
      message: 'TypeError: x is undefined',
      exitCode: EXIT_FAILED,
    });
  });

  it('prints one line whatever the message holds', () => {
    expect(errorLine('first\n   second\n')).toBe('sluice: first second\n');
  });
});

describe('progress', () => {
  const stats = (tuples: number): RunStats => ({
    window: 12,
    committed: 10,
    restarts: 1,
    tuples,
    operators: [],
  });

  it('computes tuples per second over the last interval', () => {
    const p = progressOf(stats(3500), { atMs: 1000, tuples: 1000 }, { atMs: 1500, tuples: 3500 });
    expect(p).toEqual({ window: 12, tuplesPerSecond: 5000, committed: 10, restarts: 1, holding: [] });
    expect(formatProgress(p)).toBe('window 12 · 5,000 tuples/s · committed 10 · restarts 1');
  });

  it('names an input operator holding its window open (count windows) when nothing moved', () => {
    const held: RunStats = {
      ...stats(700),
      operators: [
        { actorId: 'readings', operator: 'readings', tuples: 700, queued: 0, window: 12, holding: 13 },
        { actorId: 'sink', operator: 'sink', tuples: 700, queued: 0, window: 12 },
      ],
    };
    const still = progressOf(held, { atMs: 0, tuples: 700 }, { atMs: 1000, tuples: 700 });
    expect(formatProgress(still)).toBe(
      'window 12 · 0 tuples/s · committed 10 · restarts 1 · window 13 of readings held open, waiting for its source (count window)',
    );
    const moving = progressOf(held, { atMs: 0, tuples: 100 }, { atMs: 1000, tuples: 700 });
    expect(formatProgress(moving)).toBe('window 12 · 600 tuples/s · committed 10 · restarts 1');
  });

  it('never reports a negative rate', () => {
    expect(progressOf(stats(0), { atMs: 0, tuples: 9 }, { atMs: 0, tuples: 0 }).tuplesPerSecond).toBe(0);
  });
});

describe('unifierTrees', () => {
  it('reads back cascading layers: 20 partitions at a limit of 4 give 5 → 2 → 1', () => {
    const app = application('wide', (dag) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 20, unifierLimit: 4 });
      const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
      dag.stream('numbers', source.out, sink.in);
    });
    const [tree, ...rest] = unifierTrees(planPhysical(app.dag()));
    expect(rest).toEqual([]);
    expect(tree).toMatchObject({ operator: 'source', stream: 'numbers', downstream: 'sink', partitions: 20 });
    expect(tree!.layers.map((l) => l.length)).toEqual([5, 2, 1]);
  });
});

describe('chaos progress and replay words', () => {
  it('prints a line every tenth of the schedules, then while shrinking one per ten tries', () => {
    const lines: string[] = [];
    const err = { write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WritableStream;
    const onProgress = chaosProgress(err, () => 0); // a clock that never moves: only the counts decide
    const base = { runs: 20, faultsFired: 4, restoredRuns: 1 };
    for (let done = 1; done <= 5; done++) onProgress({ ...base, done, shrinkSteps: 0 });
    for (let shrinkSteps = 1; shrinkSteps <= 20; shrinkSteps++) onProgress({ ...base, done: 5, shrinkSteps });
    expect(lines).toEqual([
      'chaos: 2/20 schedules, 4 faults fired, 1 runs restored from a checkpoint',
      'chaos: 4/20 schedules, 4 faults fired, 1 runs restored from a checkpoint',
      'chaos: schedule 5/20 failed; looking for the smallest schedule that fails',
      'chaos: 10 smaller schedules tried',
      'chaos: 20 smaller schedules tried',
    ]);
  });

  it('prints a line after a few seconds without one', () => {
    const lines: string[] = [];
    const err = { write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WritableStream;
    let clock = 0;
    const onProgress = chaosProgress(err, () => clock);
    onProgress({ runs: 100, done: 1, faultsFired: 0, restoredRuns: 0, shrinkSteps: 0 });
    clock = 6_000;
    onProgress({ runs: 100, done: 2, faultsFired: 1, restoredRuns: 0, shrinkSteps: 0 });
    expect(lines).toEqual(['chaos: 2/100 schedules, 1 faults fired, 0 runs restored from a checkpoint']);
  });

  it('quotes a replay word only when a shell would change it', () => {
    expect(shellWord('apps/my-app.ts')).toBe('apps/my-app.ts');
    expect(shellWord('my app.ts')).toBe("'my app.ts'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
  });
});

describe('clusterUrls (--join, --cluster)', () => {
  it('takes ws:// and wss:// URLs, comma-separated, as given, and refuses anything else', () => {
    expect(clusterUrls('ws://127.0.0.1:7400')).toBe('ws://127.0.0.1:7400');
    expect(clusterUrls('ws://a:1, wss://b:2')).toBe('ws://a:1, wss://b:2');
    for (const bad of ['nonsense', 'http://x:1', 'ws://a:1,', '127.0.0.1:7400', 'ws://a:1,redis://b:2']) {
      expect(() => clusterUrls(bad), bad).toThrow(/expected ws:\/\/HOST:PORT/);
    }
  });
});

describe('nodeId and hostName (sluice node --id, --data-host)', () => {
  it('take ordinary names and addresses, and refuse empty, spaced or control-character ones', () => {
    for (const ok of ['node-1', 'a/b', 'host.example:7', 'ü']) expect(nodeId(ok)).toBe(ok);
    for (const bad of ['', ' ', 'a b', 'a\nb', 'x'.repeat(201)])
      expect(() => nodeId(bad), bad).toThrow(/expected 1 to 200/);
    for (const ok of ['127.0.0.1', 'localhost', 'node-7.internal', '::1', '[::1]', 'fe80::1'])
      expect(hostName(ok)).toBe(ok);
    for (const bad of ['', 'a b', 'ws://x', 'a@b'])
      expect(() => hostName(bad), bad).toThrow(/host name or an IP address/);
  });
});
