/**
 * The container-restart bench's application: numbers from a 2-partition source, keyed running sums in
 * 2 partitions, exactly-once window files in RESTART_OUT. Its stages spread over 2 containers; a module
 * of its own, because containers load the application by path.
 */
import { FileSink } from '../actors/file-sink.ts';
import { SequenceSource } from '../actors/sequence-source.ts';
import { application, Operator } from '../src/index.ts';

class Sums extends Operator<{ sums: Record<string, number> }> {
  readonly out = this.output<{ key: number; sum: number }>();
  readonly in = this.input<number>((n) => {
    const key = n % 7;
    const sum = (this.state.sums[key] ?? 0) + n;
    this.state.sums[key] = sum;
    this.out.emit({ key, sum });
  });
  override initialState() {
    return { sums: {} };
  }
}

export default application(
  'restart-bench',
  (dag) => {
    const numbers = dag.add(
      'numbers',
      SequenceSource,
      { tuplesPerWindow: 2000, batch: 200 },
      { partitions: 2 },
    );
    const sums = dag.add('sums', Sums, undefined, { partitions: 2 });
    const files = dag.add('files', FileSink, { dir: process.env.RESTART_OUT ?? 'out/restart-bench' });
    dag.stream('numbers', numbers.out, sums.in).keyBy((n) => n % 7);
    dag.stream('sums', sums.out, files.in);
  },
  { streamingWindowMs: 20, checkpointWindowCount: 2 },
);
