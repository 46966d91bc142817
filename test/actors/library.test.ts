import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import {
  Collected,
  CollectSink,
  ConsoleSink,
  FileSink,
  FilterOperator,
  MapOperator,
  SequenceSource,
} from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore } from '../../src/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const run = async (app: ReturnType<typeof application>, windows: number) => {
  const r = await launch(app, { store: new MemorySnapshotStore(), windows, virtualTime: true });
  await r.done;
};

test('the sequence source emits K tuples per window, partitions interleaving without overlap', async () => {
  const into = new Collected<number>();
  await run(
    application('seq', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3, batch: 2 }, { partitions: 2 });
      const sink = dag.add('sink', CollectSink<number>, { into });
      dag.stream('s', src.out, sink.in);
    }),
    2,
  );
  expect(into.windows.get(1)).toEqual([0, 2, 4, 1, 3, 5]);
  expect(into.windows.get(2)).toEqual([6, 8, 10, 7, 9, 11]);
});

test('map and filter transform, and the console sink prints each tuple with its window', async () => {
  const lines: string[] = [];
  await run(
    application('mf', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 4 });
      const sq = dag.add('square', MapOperator<number, number>, { fn: (n) => n * n });
      const even = dag.add('even', FilterOperator<number>, { predicate: (n) => n % 2 === 0 });
      const out = dag.add('out', ConsoleSink<number>, { prefix: '> ', write: (l) => lines.push(l) });
      dag.stream('a', src.out, sq.in).locality('thread');
      dag.stream('b', sq.out, even.in);
      dag.stream('c', even.out, out.in);
    }),
    2,
  );
  expect(lines).toEqual(['> [1] 0\n', '> [1] 4\n', '> [2] 16\n', '> [2] 36\n']);
});

test('the file sink writes each window to its own file and skips windows already written (exactly once)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-'));
  dirs.push(dir);
  const app = application('files', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 2 });
    const sink = dag.add('sink', FileSink, { dir });
    dag.stream('s', src.out, sink.in);
  });
  // A previous run already applied windows 1 and 2 (with other contents): the sink must not redo them.
  writeFileSync(join(dir, 'window-000000001.jsonl'), 'old\n');
  writeFileSync(join(dir, 'window-000000002.jsonl'), 'old\n');
  await run(app, 3);
  expect(readdirSync(dir).sort()).toEqual([
    '.fence',
    'window-000000001.jsonl',
    'window-000000002.jsonl',
    'window-000000003.jsonl',
  ]);
  expect(readFileSync(join(dir, 'window-000000001.jsonl'), 'utf8')).toBe('old\n');
  expect(readFileSync(join(dir, 'window-000000003.jsonl'), 'utf8')).toBe('4\n5\n');
});

test('the console sink prints what JSON cannot (a BigInt, a cycle, a function) instead of failing', async () => {
  const lines: string[] = [];
  const cycle: Record<string, unknown> = { n: 1 };
  cycle.self = cycle;
  const values: unknown[] = [10n, cycle, () => 1];
  await run(
    application('odd', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
      const odd = dag.add('odd', MapOperator<number, unknown>, { fn: (n) => values[n] });
      const out = dag.add('out', ConsoleSink<unknown>, { write: (l) => lines.push(l) });
      dag.stream('a', src.out, odd.in).locality('thread');
      dag.stream('b', odd.out, out.in).locality('thread');
    }),
    1,
  );
  expect(lines).toEqual([
    '[1] 10n\n',
    '[1] <ref *1> { n: 1, self: [Circular *1] }\n',
    '[1] [Function (anonymous)]\n',
  ]);
});

test('the file sink refuses a tuple that is no line of JSON, once and naming the window, without a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-'));
  dirs.push(dir);
  const app = application('not-json', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 2 });
    const big = dag.add('big', MapOperator<number, unknown>, { fn: (n) => (n === 3 ? BigInt(n) : n) });
    const sink = dag.add('sink', FileSink, { dir });
    dag.stream('s', src.out, big.in).locality('thread');
    dag.stream('b', big.out, sink.in);
  });
  const r = await launch(app, { store: new MemorySnapshotStore(), windows: 3, virtualTime: true });
  const restarts: unknown[] = [];
  r.on('status', (e) => {
    if (e.type === 'restart') restarts.push(e);
  });
  const error = await r.done.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error?.message).toMatch(/FileSink sink: a tuple of window 2 cannot be written as a line of JSON/);
  expect(restarts).toEqual([]);
  expect(readFileSync(join(dir, 'window-000000001.jsonl'), 'utf8')).toBe('0\n1\n');
});
