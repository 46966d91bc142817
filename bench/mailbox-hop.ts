import { SequenceSource } from '../actors/index.ts';
import { application, InputOperator, launch, MemorySnapshotStore, Operator } from '../src/index.ts';
import { formatRate, measure, perSecond } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const TUPLES_PER_WINDOW = 32 * 1024;
const BATCH = 1024;

/** Like SequenceSource, but each tuple is a small object, as real tuples are (the GC sees them). */
class ObjectSequenceSource extends InputOperator<{ next: number }> {
  readonly out = this.output<{ seq: number }>();
  private left = 0;

  override initialState() {
    return { next: 0 };
  }

  override beginWindow(): void {
    this.left = TUPLES_PER_WINDOW;
  }

  emitTuples(): void {
    const n = Math.min(this.left, BATCH);
    const s = this.state;
    for (let i = 0; i < n; i++) this.out.emit({ seq: s.next++ });
    this.left -= n;
  }
}

/** Does nothing per tuple but count, so the figure is the cost of the hop. */
class CountingSink extends Operator<{}, { counter: { tuples: number } }> {
  private n = 0;
  readonly in = this.input<unknown>(() => {
    this.n++;
  });

  override endWindow(): void {
    this.props.counter.tuples += this.n;
    this.n = 0;
  }
}

async function runHop(tuples: 'numbers' | 'objects', windows: number): Promise<number> {
  const counter = { tuples: 0 };
  const app = application(`bench-mailbox-hop-${tuples}`, (dag) => {
    const sink = dag.add('sink', CountingSink, { counter });
    const source =
      tuples === 'numbers'
        ? dag.add('source', SequenceSource, { tuplesPerWindow: TUPLES_PER_WINDOW, batch: BATCH }).out
        : dag.add('source', ObjectSequenceSource).out;
    dag.stream<unknown>('hop', source, sink.in).locality('container');
  });
  const run = await launch(app, {
    store: new MemorySnapshotStore(),
    virtualTime: true,
    windows,
    checkpointWindowCount: 0,
  });
  await run.done;
  return counter.tuples;
}

/**
 * One bare mailbox hop: a source → a sink doing nothing, through a container-local channel. The headline
 * figure carries numbers (SequenceSource); the second carries one small object per tuple.
 */
export const mailboxHopSection: Section = {
  title: 'mailbox hop: source → sink doing nothing, locality container',
  async run(o: BenchOptions): Promise<SectionReport> {
    const windows = o.quick ? 8 : 160;
    const expected = windows * TUPLES_PER_WINDOW;
    const lines = [`  ${expected.toLocaleString('en')} tuples in ${windows} windows, batches of ${BATCH}`];
    const figures: Record<string, number> = { mailboxHopTuples: expected };
    for (const tuples of ['numbers', 'objects'] as const) {
      o.progress(`mailbox hop (${tuples}): ${expected} tuples × ${o.runs} runs`);
      const m = await measure(() => runHop(tuples, windows), {
        runs: o.runs,
        warmUp: () => runHop(tuples, 8),
        check: (n) => {
          if (n !== expected) throw new BenchError(`mailbox hop: the sink saw ${n} tuples, not ${expected}`);
        },
      });
      const rate = perSecond(expected, m.bestMs);
      const name = tuples === 'numbers' ? 'mailboxHop' : 'mailboxHopObjects';
      figures[`${name}TuplesPerSec`] = Math.round(rate);
      figures[`${name}MedianTuplesPerSec`] = Math.round(perSecond(expected, m.medianMs));
      const label =
        tuples === 'numbers'
          ? 'one hop, number tuples (SequenceSource):'
          : 'one hop, object tuples ({ seq }):';
      const target = tuples === 'numbers' ? `   target ≥ 10 M/s: ${rate >= 10e6 ? 'met' : 'MISSED'}` : '';
      const ms = `best ${m.bestMs.toFixed(0)} ms, median ${m.medianMs.toFixed(0)} ms`;
      lines.push(`  ${label.padEnd(42)} ${formatRate(rate).padStart(10)}   (${ms})${target}`);
    }
    return { lines, figures };
  },
};
