import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { FileSink, SequenceSource } from '../../actors/index.ts';
import { application, launch, type StatusEvent } from '../../src/index.ts';
import { removeDir, tempDir } from './fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const app = (out: string) =>
  application(
    'numbers-to-files',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 4 });
      const sink = dag.add('sink', FileSink, { dir: out });
      dag.stream('numbers', src.out, sink.in);
    },
    { streamingWindowMs: 10, checkpointWindowCount: 2 },
  );

async function warningsOf(out: string, store: string, windows: number): Promise<string[]> {
  const run = await launch(app(out), { store, windows, virtualTime: true });
  const warnings: string[] = [];
  run.on('status', (e: StatusEvent) => {
    if (e.type === 'warning') warnings.push(e.message);
  });
  await run.done;
  return warnings;
}

test('an output written from another store says so on a fresh store, whose windows it would skip; a relaunch does not', async () => {
  const work = tempDir('other-store');
  dirs.push(work);
  const out = join(work, 'out');
  expect(await warningsOf(out, join(work, 'store-a'), 5)).toEqual([]);
  expect(await warningsOf(out, join(work, 'store-b'), 3)).toEqual([
    expect.stringMatching(
      /^sink: its output already holds windows up to 5, applied from another store; this run's store has applied nothing, so its windows 1–5 are skipped/,
    ),
  ]);
  // The store that wrote it continues: its replays are its own.
  expect(await warningsOf(out, join(work, 'store-a'), 8)).toEqual([]);
});
