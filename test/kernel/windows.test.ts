import { describe, expect, it } from 'vitest';
import { application, type Locality, Operator } from '../../src/index.ts';
import { eventsOf, runToEnd } from './kit.ts';
import { type Call, Recorder, type Tagged, TaggedSource, TwoInputRecorder } from './operators.ts';

/** Emits a tuple of its own in beginWindow and in endWindow, around the ones it forwards. */
class EmitsAtEdges extends Operator {
  readonly out = this.output<Tagged>();
  readonly in = this.input<Tagged>((t) => this.out.emit(t));
  private w = 0;

  override beginWindow(w: number): void {
    this.w = w;
    this.out.emit({ src: 'beginWindow', w, seq: 0 });
  }

  override endWindow(): void {
    this.out.emit({ src: 'endWindow', w: this.w, seq: 0 });
  }
}

/** Forwards tuples; its endWindow commits asynchronously (a few ms), which holds the window's end back. */
class SlowEnd extends Operator {
  readonly out = this.output<Tagged>();
  readonly in = this.input<Tagged>((t) => this.out.emit(t));

  override endWindow(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The begin/end calls of one operator, as `b1 e1 b2 …` (endWindow labelled with ctx.windowId). */
function markers(calls: readonly Call[], op: string): string[] {
  return calls.filter((c) => c.op === op && c.call !== 'tuple').map((c) => `${c.call[0]}${c.w}`);
}

function alternating(windows: readonly number[]): string[] {
  return windows.flatMap((w) => [`b${w}`, `e${w}`]);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * Checks that every tuple an operator received lies between beginWindow(w) and endWindow(w) of the window
 * its source emitted it in; returns the tuples received per (window, source).
 */
function tuplesByWindow(calls: readonly Call[], op: string): Map<string, number> {
  const counts = new Map<string, number>();
  let open: number | undefined;
  for (const c of calls) {
    if (c.op !== op) continue;
    if (c.call === 'begin') open = c.w;
    else if (c.call === 'end') open = undefined;
    else {
      if (open === undefined || c.tuple.w !== open || c.w !== open) {
        throw new Error(
          `${op} received ${JSON.stringify(c.tuple)} (ctx.windowId ${c.w}) while window ${String(open)} was open`,
        );
      }
      const key = `${c.w}/${c.tuple.src}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

describe('streaming windows', () => {
  it('numbers windows consecutively from 1 and reports each one', async () => {
    const calls: Call[] = [];
    const app = application('ids', (dag) => {
      const src = dag.add('src', TaggedSource, { name: 'src', perCall: 5, perWindow: 10 });
      const rec = dag.add('rec', Recorder, { name: 'rec', calls });
      dag.stream('s', src.out, rec.in);
    });
    const { events } = await runToEnd(app, { windows: 6, checkpointWindowCount: 2 });
    expect(markers(calls, 'rec')).toEqual(alternating(range(1, 6)));
    expect(eventsOf(events, 'started')[0]?.firstWindow).toBe(1);
    expect(eventsOf(events, 'window').map((e) => e.window)).toEqual(range(1, 6));
  });

  it('begins and ends empty windows too: a source with nothing to emit leaves no gap in ids', async () => {
    const calls: Call[] = [];
    const app = application('empty', (dag) => {
      const src = dag.add('src', TaggedSource, { name: 'src', perCall: 5, perWindow: 0 });
      const rec = dag.add('rec', Recorder, { name: 'rec', calls });
      dag.stream('s', src.out, rec.in);
    });
    await runToEnd(app, { windows: 5, checkpointWindowCount: 2 });
    expect(markers(calls, 'rec')).toEqual(alternating(range(1, 5)));
    expect(calls.filter((c) => c.call === 'tuple')).toEqual([]);
  });

  it.each<Locality>(['container', 'thread'])(
    'passes begin, tuples and end through a chain in order (%s locality)',
    async (locality) => {
      const calls: Call[] = [];
      const log: string[] = [];
      const app = application('chain', (dag) => {
        const src = dag.add('src', TaggedSource, { name: 'src', perCall: 7, perWindow: 20, log });
        const a = dag.add('a', Recorder, { name: 'a', calls, log });
        const b = dag.add('b', Recorder, { name: 'b', calls, log });
        dag.stream('s1', src.out, a.in).locality(locality);
        dag.stream('s2', a.out, b.in).locality(locality);
      });
      await runToEnd(app, { windows: 4, checkpointWindowCount: 2, mailboxCapacity: 2, batchSize: 3 });
      for (const op of ['a', 'b']) {
        expect(markers(calls, op)).toEqual(alternating(range(1, 4)));
        const counts = tuplesByWindow(calls, op);
        for (const w of range(1, 4)) expect(counts.get(`${w}/src`), `${op} window ${w}`).toBe(20);
        const seqs = calls.flatMap((c) => (c.op === op && c.call === 'tuple' ? [c.tuple.seq] : []));
        expect(seqs).toEqual(range(0, 79));
      }
      // A window ends downstream only after it ended upstream, and the next begins after that.
      for (const w of range(1, 4)) {
        const ends = ['src', 'a', 'b'].map((op) => log.indexOf(`${op}:end:${w}`));
        expect(ends.every((i) => i >= 0)).toBe(true);
        expect([...ends].sort((x, y) => x - y)).toEqual(ends);
        if (w < 4) {
          for (const op of ['src', 'a', 'b'])
            expect(log.indexOf(`${op}:begin:${w + 1}`)).toBeGreaterThan(ends[0]!);
        }
      }
    },
  );

  it.each<Locality>(['container', 'thread'])(
    'delivers what an operator emits in beginWindow and endWindow inside that window (%s)',
    async (locality) => {
      const calls: Call[] = [];
      const app = application('edges', (dag) => {
        const src = dag.add('src', TaggedSource, { name: 'src', perCall: 2, perWindow: 2 });
        const edges = dag.add('edges', EmitsAtEdges);
        const rec = dag.add('rec', Recorder, { name: 'rec', calls });
        dag.stream('s1', src.out, edges.in).locality(locality);
        dag.stream('s2', edges.out, rec.in).locality(locality);
      });
      await runToEnd(app, { windows: 3, checkpointWindowCount: 1 });
      const byWindow = range(1, 3).map((w) =>
        calls
          .filter((c) => c.call === 'tuple' && c.w === w)
          .map((c) => (c.call === 'tuple' ? c.tuple.src : '')),
      );
      expect(tuplesByWindow(calls, 'rec').size).toBe(9);
      expect(byWindow).toEqual(range(1, 3).map(() => ['beginWindow', 'src', 'src', 'endWindow']));
    },
  );

  it('aligns the windows of an operator with two inputs emitting at different speeds', async () => {
    const calls: Call[] = [];
    const log: string[] = [];
    const emittedBy = { trickle: new Map<number, number>(), bulk: new Map<number, number>() };
    const app = application('align', (dag) => {
      // One tuple per emitTuples() call, never idle: its windows close on the generator's round limit.
      const trickle = dag.add('trickle', TaggedSource, {
        name: 'trickle',
        perCall: 1,
        log,
        emitted: emittedBy.trickle,
      });
      // Everything of a window in one call: it reaches the end of each window far ahead of `trickle`.
      const bulk = dag.add('bulk', TaggedSource, {
        name: 'bulk',
        perCall: 300,
        perWindow: 300,
        log,
        emitted: emittedBy.bulk,
      });
      // A slow stage on trickle's path: while it commits window w, bulk's window w+1 already waits at join.
      const slow = dag.add('slow', SlowEnd);
      const join = dag.add('join', TwoInputRecorder, { name: 'join', calls, log });
      dag.stream('trickled', trickle.out, slow.in).locality('container');
      dag.stream('slow', slow.out, join.a).locality('container');
      dag.stream('fast', bulk.out, join.b).locality('container');
    });
    const windows = 8;
    await runToEnd(app, { windows, checkpointWindowCount: 2, mailboxCapacity: 2, batchSize: 4 });

    expect(markers(calls, 'join')).toEqual(alternating(range(1, windows)));
    const received = tuplesByWindow(calls, 'join');
    for (const w of range(1, windows)) {
      for (const src of ['trickle', 'bulk'] as const) {
        expect(received.get(`${w}/${src}`) ?? 0, `window ${w} from ${src}`).toBe(emittedBy[src].get(w) ?? 0);
      }
      expect(emittedBy.bulk.get(w)).toBe(300);
      expect(emittedBy.trickle.get(w) ?? 0).toBeGreaterThan(0);
      const end = log.indexOf(`join:end:${w}`);
      expect(end).toBeGreaterThan(log.indexOf(`trickle:end:${w}`));
      expect(end).toBeGreaterThan(log.indexOf(`bulk:end:${w}`));
    }
    // Per port, tuples arrive once each and in the order they were emitted.
    for (const port of ['a', 'b']) {
      const seqs = calls.flatMap((c) => (c.call === 'tuple' && c.port === port ? [c.tuple.seq] : []));
      expect(seqs).toEqual(range(0, seqs.length - 1));
    }
  });

  it('groups streaming windows into application windows (applicationWindowCount: 3)', async () => {
    const calls: Call[] = [];
    const app = application('app-windows', (dag) => {
      const src = dag.add('src', TaggedSource, { name: 'src', perCall: 4, perWindow: 4 });
      const agg = dag.add('agg', Recorder, { name: 'agg', calls }, { applicationWindowCount: 3 });
      dag.stream('s', src.out, agg.in);
    });
    await runToEnd(app, { windows: 9, checkpointWindowCount: 3 });
    expect(markers(calls, 'agg')).toEqual(['b1', 'e3', 'b4', 'e6', 'b7', 'e9']);
    // Every streaming window's tuples fall inside the application window that spans it.
    let span: number | undefined;
    const seen: number[] = [];
    for (const c of calls) {
      if (c.call === 'begin') span = c.w;
      else if (c.call === 'end') span = undefined;
      else {
        expect(span).toBeDefined();
        expect(c.tuple.w).toBeGreaterThanOrEqual(span!);
        expect(c.tuple.w).toBeLessThan(span! + 3);
        expect(c.w).toBe(c.tuple.w);
        seen.push(c.tuple.seq);
      }
    }
    expect(seen).toEqual(range(0, 35));
  });
});
