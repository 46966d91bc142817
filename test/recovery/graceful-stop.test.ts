import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { FileSink } from '../../actors/index.ts';
import { application, InputOperator, launch, type OperatorContext } from '../../src/index.ts';
import { readWindowFiles, removeDir, tempDir } from './fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** 12 numbers per window, 2 per emitTuples() call; `onCall` sees every call (to stop mid-burst). */
class Numbers extends InputOperator<{ next: number }, { onCall?: (window: number, call: number) => void }> {
  readonly out = this.output<number>();
  private ctx!: OperatorContext;
  private calls = 0;
  override initialState() {
    return { next: 0 };
  }
  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }
  override beginWindow(): void {
    this.calls = 0;
  }
  emitTuples(): void {
    if (this.calls >= 6) return;
    this.calls++;
    this.props.onCall?.(this.ctx.windowId, this.calls);
    this.out.emit(this.state.next++);
    this.out.emit(this.state.next++);
  }
}

const numbersApp = (dir: string, onCall?: (window: number, call: number) => void) =>
  application('graceful', (dag) => {
    const src = dag.add('src', Numbers, { onCall });
    const sink = dag.add('sink', FileSink, { dir });
    dag.stream('numbers', src.out, sink.in);
  });

test('a graceful stop in the middle of a window finishes that window whole, so a relaunch continues the same output', async () => {
  const work = tempDir('graceful');
  dirs.push(work);
  const reference = await launch(numbersApp(join(work, 'out-ref')), {
    store: join(work, 'store-ref'),
    windows: 12,
    streamingWindowMs: 20,
  });
  await reference.done;

  const out = join(work, 'out');
  const store = join(work, 'store');
  let stop = () => {};
  const first = await launch(
    numbersApp(out, (window, call) => {
      if (window === 5 && call === 2) stop(); // Ctrl-C arrives while window 5 is being emitted
    }),
    { store, streamingWindowMs: 20 },
  );
  stop = () => void first.stop();
  let stoppedAt = 0;
  first.on('status', (e) => {
    if (e.type === 'stopped') stoppedAt = e.window;
  });
  await first.done;
  expect(stoppedAt).toBe(5);
  await (await launch(numbersApp(out), { store, windows: 12, streamingWindowMs: 20 })).done;
  const expected = readWindowFiles(join(work, 'out-ref'));
  expect(expected.size).toBe(12);
  expect(readWindowFiles(out)).toEqual(expected);
});
