/**
 * One run of the many-actors section, in a fresh process: `partitions` SequenceSource → MapOperator
 * pairs (parallel streams, locality 'container': 2 × partitions actors, one queued channel each) on
 * virtual time with the product's default checkpointing (every 10 windows) on a fresh LevelDB store;
 * prints the milliseconds per window of the timed windows (from window `from`, past the first commits, to
 * the last window done) as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MapOperator, SequenceSource } from '../actors/index.ts';
import { application, LevelSnapshotStore, launch } from '../src/index.ts';

export interface ManyActorsJob {
  partitions: number;
  windows: number;
  /** Windows before the clock starts (launch, the first commit). */
  from: number;
}

export interface ManyActorsResult {
  actors: number;
  msPerWindow: number;
  tuples: number;
}

const job = JSON.parse(process.argv[2]!) as ManyActorsJob;
const TUPLES = 8;
const app = application(
  'many-actors',
  (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: TUPLES }, { partitions: job.partitions });
    const map = dag.add(
      'map',
      MapOperator<number, number>,
      { fn: (n) => n + 1 },
      { partitions: job.partitions },
    );
    dag.stream('numbers', src.out, map.in).locality('container').parallel();
  },
  { streamingWindowMs: 100 },
);
const dir = mkdtempSync(join(tmpdir(), 'sluice-many-actors-'));
try {
  const run = await launch(app, {
    store: new LevelSnapshotStore(join(dir, 'store')),
    windows: job.windows,
    virtualTime: true,
  });
  let startedAt = 0;
  let endedAt = 0;
  let tuples = 0;
  run.on('status', (e) => {
    if (e.type !== 'window') return;
    if (e.window === job.from) startedAt = performance.now();
    if (e.window === job.windows) endedAt = performance.now();
    tuples = e.tuples;
  });
  await run.done;
  const result: ManyActorsResult = {
    actors: 2 * job.partitions,
    msPerWindow: (endedAt - startedAt) / (job.windows - job.from),
    tuples,
  };
  process.stdout.write(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
