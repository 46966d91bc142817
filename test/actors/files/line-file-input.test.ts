import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type InvalidLine,
  LineFileInput,
  type LineFileInputProps,
} from '../../../actors/files/line-file-input.ts';
import { Collected, CollectSink } from '../../../actors/index.ts';
import {
  application,
  LevelSnapshotStore,
  launch,
  MemorySnapshotStore,
  Operator,
  type OperatorContext,
} from '../../../src/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-lines-'));
  dirs.push(d);
  return d;
}

const ctx = (partition = 0, partitions = 1) => ({ partition, partitions }) as OperatorContext;

/** One instance driven by hand: what each emitTuples() call emits. */
function driven<T>(props: LineFileInputProps<T>, state?: LineFileInput<T>['state']) {
  const op = new LineFileInput<T>(props);
  op.state = state ?? op.initialState();
  const out: T[] = [];
  const errors: InvalidLine[] = [];
  op.out.emit = (t) => out.push(t);
  op.errors.emit = (e) => errors.push(e);
  op.setup(ctx());
  return { op, out, errors };
}

/** Fails once, in the window given, so that a `replayFrom: 'sources'` recovery restores the file input. */
class FailOnce extends Operator<{}, { window: number; done: { failed: boolean } }> {
  private ctx!: OperatorContext;
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => {
    if (this.ctx.windowId === this.props.window && !this.props.done.failed) {
      this.props.done.failed = true;
      throw new Error('injected: fail once');
    }
    this.out.emit(n);
  });
  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }
}

function numbersApp(path: string, into: Collected<number>, done: { failed: boolean }, failAt = 0) {
  return application(
    'lines',
    (dag) => {
      const lines = dag.add('lines', LineFileInput<number>, {
        path,
        parse: (l) => Number(l),
        linesPerWindow: 40,
        linesPerCall: 16,
      });
      const fail = dag.add('fail', FailOnce, { window: failAt, done });
      const sink = dag.add('sink', CollectSink<number>, { into });
      dag.stream('numbers', lines.out, fail.in);
      dag.stream('checked', fail.out, sink.in);
    },
    { checkpointWindowCount: 5 },
  );
}

describe('LineFileInput', () => {
  it('reads lines by byte offset, at most linesPerCall a call; CRLF and a final line without newline', () => {
    const path = join(tempDir(), 'in.txt');
    writeFileSync(path, 'a\nbé\r\n\nd\ne');
    const { op, out } = driven({ path, linesPerCall: 2 });
    op.emitTuples();
    expect(out).toEqual(['a', 'bé']);
    expect(op.state).toMatchObject({ offset: 7, line: 2 });
    op.emitTuples();
    op.emitTuples();
    expect(out).toEqual(['a', 'bé', '', 'd', 'e']);
    expect(op.state).toMatchObject({ offset: 11, line: 5 });
    op.emitTuples();
    expect(out).toHaveLength(5);

    // A fresh instance from that state reads on from the offset, not from the start.
    appendFileSync(path, '\nf\n');
    const again = driven({ path }, { ...op.state });
    again.op.emitTuples();
    expect(again.out).toEqual(['', 'f']);
  });

  it('malformed lines go to the errors port with their line number, and are counted in state', () => {
    const path = join(tempDir(), 'in.txt');
    writeFileSync(path, '1\nx\n3\n{\n5\n');
    const parse = (l: string) => {
      const n = Number(l);
      if (!Number.isInteger(n)) throw new Error(`not a number: ${l}`);
      return n;
    };
    const { op, out, errors } = driven<number>({ path, parse });
    op.emitTuples();
    expect(out).toEqual([1, 3, 5]);
    expect(errors).toEqual([
      { path, line: 2, offset: 2, text: 'x', error: 'not a number: x' },
      { path, line: 4, offset: 6, text: '{', error: 'not a number: {' },
    ]);
    expect(op.state.invalid).toBe(2);
  });

  it('following a growing file: a partial last line waits for its newline; a truncated file fails', () => {
    const path = join(tempDir(), 'log.txt');
    const { op, out } = driven({ path, follow: true }); // the file does not exist yet
    op.emitTuples();
    expect(out).toEqual([]);
    writeFileSync(path, '1\n2\n3');
    op.emitTuples();
    expect(out).toEqual(['1', '2']);
    appendFileSync(path, '4\n5');
    op.emitTuples();
    expect(out).toEqual(['1', '2', '34']);
    appendFileSync(path, '\n');
    op.emitTuples();
    expect(out).toEqual(['1', '2', '34', '5']);
    truncateSync(path, 2);
    expect(() => op.emitTuples()).toThrow(expect.objectContaining({ code: 'SLUICE_LINE_FILE_TRUNCATED' }));
  });

  it('partitions split the lines: partition p of P takes every P-th line', () => {
    const path = join(tempDir(), 'in.txt');
    writeFileSync(path, '0\n1\n2\n3\n4\n5\n6\n');
    const got: string[][] = [];
    for (const p of [0, 1, 2]) {
      const op = new LineFileInput({ path });
      op.state = op.initialState();
      const out: string[] = [];
      op.out.emit = (t) => out.push(t);
      op.setup(ctx(p, 3));
      op.emitTuples();
      got.push(out);
    }
    expect(got).toEqual([
      ['0', '3', '6'],
      ['1', '4'],
      ['2', '5'],
    ]);
  });

  it('restored from its checkpoint offset after a failure, and relaunched on the same store: every line once, in order', async () => {
    const dir = tempDir();
    const path = join(dir, 'numbers.txt');
    writeFileSync(path, `${Array.from({ length: 1000 }, (_, i) => i).join('\n')}\n`);
    const into = new Collected<number>();
    const done = { failed: false };
    // replayFrom 'sources': the failure downstream restores every actor, the file input from its offset.
    const first = await launch(numbersApp(path, into, done, 8), {
      store: new LevelSnapshotStore(join(dir, 'store')),
      virtualTime: true,
      replayFrom: 'sources',
      windows: 12,
    });
    await first.done;
    expect(done.failed).toBe(true);
    expect(first.stats().restarts).toBe(1);
    expect(into.all()).toEqual(Array.from({ length: 480 }, (_, i) => i));

    const relaunched = await launch(numbersApp(path, into, done), {
      store: new LevelSnapshotStore(join(dir, 'store')),
      virtualTime: true,
      windows: 40,
    });
    await relaunched.done;
    expect(into.all()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('on a memory store with windows cut by linesPerWindow, each window holds at most that many lines', async () => {
    const path = join(tempDir(), 'numbers.txt');
    writeFileSync(path, `${Array.from({ length: 100 }, (_, i) => i).join('\n')}\n`);
    const into = new Collected<number>();
    const run = await launch(numbersApp(path, into, { failed: false }), {
      store: new MemorySnapshotStore(),
      virtualTime: true,
      windows: 4,
    });
    await run.done;
    expect([...into.windows.values()].map((w) => w.length)).toEqual([40, 40, 20]);
  });
});
