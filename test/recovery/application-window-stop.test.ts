import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { FileSink } from '../../actors/index.ts';
import { application, InputOperator, launch, Operator } from '../../src/index.ts';
import { readWindowFiles, removeDir, tempDir } from './fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** 8 numbers per window, 2 per emitTuples() call; `onCall` sees every call (to stop mid-window). */
class Numbers extends InputOperator<{ next: number }, { onCall?: (window: number) => void }> {
  readonly out = this.output<number>();
  private calls = 0;
  override initialState() {
    return { next: 0 };
  }
  override beginWindow(w: number): void {
    this.calls = 0;
    this.props.onCall?.(w);
  }
  emitTuples(): void {
    if (this.calls >= 4) return;
    this.calls++;
    this.out.emit(this.state.next++);
    this.out.emit(this.state.next++);
  }
}

/** Sums and counts over an application window of 3 streaming windows (the partial sums are state). */
class Sum3 extends Operator<{ sum: number; count: number; first: number }> {
  readonly out = this.output<string>();
  readonly in = this.input<number>((n) => {
    if (this.state.count === 0) this.state.first = n;
    this.state.sum += n;
    this.state.count++;
  });
  override initialState() {
    return { sum: 0, count: 0, first: -1 };
  }
  override endWindow(): void {
    this.out.emit(`from ${this.state.first}: ${this.state.count} numbers, sum ${this.state.sum}`);
    this.state = { sum: 0, count: 0, first: -1 };
  }
}

const app = (dir: string, onCall?: (window: number) => void) =>
  application(
    'app-windows',
    (dag) => {
      const src = dag.add('src', Numbers, { onCall });
      const sum = dag.add('sum3', Sum3, undefined, { applicationWindowCount: 3 });
      const sink = dag.add('sink', FileSink, { dir });
      dag.stream('numbers', src.out, sum.in);
      dag.stream('sums', sum.out, sink.in);
    },
    { streamingWindowMs: 15, checkpointWindowCount: 2 },
  );

/** The sink writes a file per streaming window; application windows end in every third. */
const nonEmpty = (files: Map<string, string>) => [...files.values()].filter((body) => body !== '').length;

async function reference(work: string, windows: number): Promise<Map<string, string>> {
  const out = join(work, 'out-ref');
  await (await launch(app(out), { store: join(work, 'store-ref'), windows })).done;
  return readWindowFiles(out);
}

test.each([7, 10, 11])(
  '--windows %i (not a multiple of the application window of 3), then a relaunch: the output of an uninterrupted run, no partial application window',
  async (stopAt) => {
    const work = tempDir('appwin');
    dirs.push(work);
    const expected = await reference(work, 18);
    expect(nonEmpty(expected)).toBe(6);
    const out = join(work, 'out');
    const store = join(work, 'store');
    await (await launch(app(out), { store, windows: stopAt })).done;
    // Only whole application windows were emitted before the stop.
    expect(nonEmpty(readWindowFiles(out))).toBe(Math.floor(stopAt / 3));
    await (await launch(app(out), { store, windows: 18 })).done;
    expect(readWindowFiles(out)).toEqual(expected);
  },
);

test('a graceful stop in window 8 (mid application window), then a relaunch: the output of an uninterrupted run', async () => {
  const work = tempDir('appwin-stop');
  dirs.push(work);
  const expected = await reference(work, 15);
  const out = join(work, 'out');
  const store = join(work, 'store');
  let stop = () => {};
  const first = await launch(
    app(out, (w) => {
      if (w === 8) stop();
    }),
    { store },
  );
  stop = () => void first.stop();
  let stoppedAt = 0;
  first.on('status', (e) => {
    if (e.type === 'stopped') stoppedAt = e.window;
  });
  await first.done;
  expect(stoppedAt).toBe(8);
  expect(nonEmpty(readWindowFiles(out))).toBe(2);
  await (await launch(app(out), { store, windows: 15 })).done;
  expect(readWindowFiles(out)).toEqual(expected);
});

/** The sink itself over application windows of 3: a window-fenced output gathers them in its state. */
const sinkApp = (dir: string) =>
  application(
    'sink-app-windows',
    (dag) => {
      const src = dag.add('src', Numbers, {});
      const sink = dag.add('sink', FileSink, { dir }, { applicationWindowCount: 3 });
      dag.stream('numbers', src.out, sink.in);
    },
    { streamingWindowMs: 15, checkpointWindowCount: 2 },
  );

test.each([7, 10, 11])(
  'a FileSink with application windows of 3, --windows %i, then a relaunch: nothing of the open application window is lost',
  async (stopAt) => {
    const work = tempDir('sink-appwin');
    dirs.push(work);
    await (await launch(sinkApp(join(work, 'out-ref')), { store: join(work, 'store-ref'), windows: 18 }))
      .done;
    const expected = readWindowFiles(join(work, 'out-ref'));
    expect([...expected.values()].join('').trim().split('\n')).toHaveLength(18 * 8);
    const out = join(work, 'out');
    const store = join(work, 'store');
    await (await launch(sinkApp(out), { store, windows: stopAt })).done;
    await (await launch(sinkApp(out), { store, windows: 18 })).done;
    expect(readWindowFiles(out)).toEqual(expected);
  },
);
