/**
 * One timed run of a file output, fenced (FileSink: a claim at setup, then per window a check of
 * `.fence/` and a hard link) or not (the same sink as it was before fencing: write and rename).
 * `node --import tsx bench/output-fencing-run.ts fenced|unfenced WINDOWS` prints `{ "ms": …, "files": … }`.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSink, type FileSinkProps, SequenceSource } from '../actors/index.ts';
import { application, launch, MemorySnapshotStore, WindowFencedOutput } from '../src/index.ts';

export const TUPLES_PER_WINDOW = 50;

/** FileSink before fencing: no claim; the epoch is ignored; the commit is a rename. */
class UnfencedFileSink extends WindowFencedOutput<unknown, {}, FileSinkProps> {
  protected lastAppliedWindow(): number {
    return 0;
  }

  protected async applyWindow(window: number, tuples: unknown[]): Promise<void> {
    const file = join(this.props.dir, `window-${String(window).padStart(9, '0')}.jsonl`);
    await writeFile(`${file}.tmp`, tuples.map((t) => `${JSON.stringify(t)}\n`).join(''));
    await rename(`${file}.tmp`, file);
  }
}

export async function runOutput(variant: 'fenced' | 'unfenced', windows: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-fence-'));
  try {
    const sinkClass = variant === 'fenced' ? FileSink : UnfencedFileSink;
    const app = application(
      'fence-bench',
      (dag) => {
        const src = dag.add('src', SequenceSource, { tuplesPerWindow: TUPLES_PER_WINDOW });
        const sink = dag.add('sink', sinkClass, { dir });
        dag.stream('numbers', src.out, sink.in);
      },
      { checkpointWindowCount: 10 },
    );
    const start = performance.now();
    const run = await launch(app, { store: new MemorySnapshotStore(), windows, virtualTime: true });
    await run.done;
    const ms = performance.now() - start;
    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length;
    return { ms, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('output-fencing-run.ts')) {
  const variant = process.argv[2] === 'fenced' ? 'fenced' : 'unfenced';
  const result = await runOutput(variant, Number(process.argv[3] ?? 400));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
