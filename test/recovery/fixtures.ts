import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { FileSink, SequenceSource } from '../../actors/index.ts';
import { application, Operator } from '../../src/index.ts';

/** Keyed running sums (partitioned) into a per-window file sink: the shape of the lunch test. */
export class RunningSum extends Operator<{ sums: Record<string, number> }> {
  readonly out = this.output<{ key: number; value: number; sum: number }>();
  readonly in = this.input<number>((value) => {
    const key = value % 7;
    const sum = (this.state.sums[key] ?? 0) + value;
    this.state.sums[key] = sum;
    this.out.emit({ key, value, sum });
  });

  override initialState() {
    return { sums: {} };
  }
}

export function runningSumsApp(dir: string, checkpointWindowCount = 3) {
  return application(
    'running-sums',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 20, batch: 6 });
      const sums = dag.add('sums', RunningSum, undefined, { partitions: 3 });
      const sink = dag.add('sink', FileSink, { dir });
      dag.stream('numbers', src.out, sums.in).keyBy((n) => n % 7);
      dag.stream('sums', sums.out, sink.in);
    },
    { checkpointWindowCount },
  );
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sluice-${prefix}-`));
}

/** window file name → contents, for comparing two runs' outputs. */
export function readWindowFiles(dir: string): Map<string, string> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/**
 * Fresh temporary directories named `sluice-<prefix>-…`, one per call of the returned function, all
 * removed after each test (call at the top level of a test file: it registers the afterEach).
 */
export function scratchDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return () => {
    const dir = tempDir(prefix);
    dirs.push(dir);
    return dir;
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
