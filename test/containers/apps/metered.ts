/**
 * numbers → count (2 partitions, keyed; operator metrics) → files, for the metrics, console and tap tests
 * on containers. METERED_OUT names the output directory, METERED_TUPLES the tuples per window (300).
 */
import { application, Operator } from 'sluice';
import { FileSink } from '../../../actors/file-sink.ts';
import { SequenceSource } from '../../../actors/sequence-source.ts';

/** Counts what it sees (a counter) and keeps the largest tuple (a gauge, max across partitions). */
export class Counting extends Operator {
  readonly seen = this.metric('seen_tuples');
  readonly largest = this.metric('largest_tuple', { kind: 'gauge', aggregate: 'max' });
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => {
    this.seen.inc();
    if (n > this.largest.value) this.largest.set(n);
    this.out.emit(n);
  });
}

export default application(
  'metered',
  (dag) => {
    const numbers = dag.add('numbers', SequenceSource, {
      tuplesPerWindow: Number(process.env.METERED_TUPLES ?? 300),
      batch: 50,
    });
    const count = dag.add('count', Counting, undefined, { partitions: 2 });
    const files = dag.add('files', FileSink, { dir: process.env.METERED_OUT ?? 'out/metered' });
    dag.stream('numbers', numbers.out, count.in).keyBy((n) => n % 7);
    dag.stream('counted', count.out, files.in);
  },
  { streamingWindowMs: 20, checkpointWindowCount: 2 },
);
