/**
 * The locality bench's application: numbers into a counting sink over one stream whose locality comes
 * from LOCALITY_STREAM (thread, container or node); the sink writes its count to LOCALITY_COUNT at
 * teardown. LOCALITY_HEAVY=1 instead makes a 2-partition pipeline with CPU work in each partition (the
 * two-cores check). A module of its own: containers load the application by path.
 */
import { writeFileSync } from 'node:fs';
import { SequenceSource } from '../actors/sequence-source.ts';
import { application, type Locality, Operator } from '../src/index.ts';

export const TUPLES_PER_WINDOW = 65_536;

class Count extends Operator<{ n: number; sum: number }> {
  readonly in = this.input<number>((v) => {
    this.state.n++;
    this.state.sum += v;
  });
  override initialState() {
    return { n: 0, sum: 0 };
  }
  override teardown(): void {
    const file = process.env.LOCALITY_COUNT;
    if (file) writeFileSync(`${file}.${process.pid}.${Math.random()}`, JSON.stringify(this.state));
  }
}

/** Some arithmetic per tuple (~0.3 µs): enough that the two partitions are the work. */
class Heavy extends Operator<{}> {
  readonly out = this.output<number>();
  readonly in = this.input<number>((v) => {
    let x = v;
    for (let i = 0; i < 24; i++) x = (x * 1103515245 + 12345) % 2147483647;
    this.out.emit(x);
  });
}

const heavy = process.env.LOCALITY_HEAVY === '1';

export default application(
  heavy ? 'locality-heavy' : 'locality',
  (dag) => {
    const numbers = dag.add(
      'numbers',
      SequenceSource,
      { tuplesPerWindow: TUPLES_PER_WINDOW, batch: 1024 },
      {
        partitions: heavy ? 2 : 1,
      },
    );
    const count = dag.add('count', Count);
    if (heavy) {
      const work = dag.add('work', Heavy, undefined, { partitions: 2 });
      dag.stream('numbers', numbers.out, work.in).parallel().locality('container');
      dag.stream('worked', work.out, count.in);
    } else {
      const locality = (process.env.LOCALITY_STREAM ?? 'container') as Locality;
      dag.stream('numbers', numbers.out, count.in).locality(locality);
    }
  },
  // No checkpoint setting of its own: the benches run it with sluice's defaults (every 10 windows).
);
