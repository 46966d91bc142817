import { SequenceSource } from '../actors/index.ts';
import { application, InputOperator, launch, MemorySnapshotStore, Operator } from '../src/index.ts';

export const TUPLES_PER_WINDOW = 32 * 1024;
export const BATCH = 1024;

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

/** source → sink at locality container on a memory store, no checkpoints; resolves with the tuples the sink saw. */
export async function runHop(tuples: 'numbers' | 'objects', windows: number): Promise<number> {
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
