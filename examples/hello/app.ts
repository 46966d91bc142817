/**
 * Hello, sluice: a two-partition counter, squared, filtered to the even squares, printed.
 *
 *   numbers (SequenceSource ×2) → squares (MapOperator) → evens (FilterOperator) → print (ConsoleSink)
 *
 * Run it with `npx sluice run examples/hello/app.ts --windows 10`.
 */
import { application } from 'sluice';
import { ConsoleSink, FilterOperator, MapOperator, SequenceSource } from 'sluice/actors';

export default application(
  'hello',
  (dag) => {
    const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 5 }, { partitions: 2 });
    const squares = dag.add('squares', MapOperator<number, number>, { fn: (n) => n * n });
    const evens = dag.add('evens', FilterOperator<number>, { predicate: (n) => n % 2 === 0 });
    const print = dag.add('print', ConsoleSink<number>, { prefix: 'hello ' });
    dag.stream('numbers', numbers.out, squares.in);
    dag.stream('squares', squares.out, evens.in);
    dag.stream('evens', evens.out, print.in);
  },
  { streamingWindowMs: 200 },
);
