/**
 * Numbers from two partitioned sources, keyed running sums in two partitions, exactly-once window files:
 * an application whose stages spread over containers. SUMS_OUT names the output directory; SUMS_HANG a
 * marker file: the first sums actor to reach window SUMS_HANG_WINDOW (default 6) creates it and spins
 * forever (once across restarts): an operator stuck in synchronous code. SUMS_THROW likewise throws,
 * SUMS_EXIT exits the worker (code 7), SUMS_UNCAUGHT throws outside any operator call (uncaught);
 * SUMS_ALWAYS=1 makes a drill fire on every pass.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { application, Operator, type OperatorContext } from 'sluice';
// Straight from the files: the worker loads what the application needs, not the whole library.
import { FileSink } from '../../../actors/file-sink.ts';
import { SequenceSource } from '../../../actors/sequence-source.ts';

export class Sums extends Operator<{ sums: Record<string, number> }> {
  private ctx!: OperatorContext;
  readonly out = this.output<{ key: number; sum: number; n: number }>();
  readonly in = this.input<number>((n) => {
    this.drill();
    const key = n % 7;
    const sum = (this.state.sums[key] ?? 0) + n;
    this.state.sums[key] = sum;
    this.out.emit({ key, sum, n });
  });
  override initialState() {
    // SUMS_INIT_FAIL: the first instance built in a container (not in this thread) fails, once.
    const marker = process.env.SUMS_INIT_FAIL;
    if (marker && !isMainThread && !existsSync(marker)) {
      writeFileSync(marker, 'initialState\n');
      throw new Error('injected: initialState fails once');
    }
    return { sums: {} };
  }
  override setup(ctx: OperatorContext) {
    this.ctx = ctx;
  }
  private drill(): void {
    if (this.ctx.windowId !== Number(process.env.SUMS_DRILL_WINDOW ?? 6)) return;
    for (const [variable, act] of [
      [
        'SUMS_HANG',
        () => {
          for (;;) {}
        },
      ],
      [
        'SUMS_THROW',
        () => {
          throw new Error('injected: sums fail once');
        },
      ],
      ['SUMS_EXIT', () => process.exit(7)],
      [
        'SUMS_UNCAUGHT',
        () => {
          setImmediate(() => {
            throw new Error('uncaught in a container');
          });
        },
      ],
    ] as const) {
      const marker = process.env[variable];
      // SUMS_ALWAYS: the drill fires on every pass (a deterministic bug), not once.
      if (marker && (!existsSync(marker) || process.env.SUMS_ALWAYS === '1')) {
        writeFileSync(marker, `${this.ctx.actorId}\n`);
        act();
      }
    }
  }
}

export default application(
  'sums',
  (dag) => {
    const numbers = dag.add(
      'numbers',
      SequenceSource,
      { tuplesPerWindow: 300, batch: 50 },
      { partitions: 2 },
    );
    const sums = dag.add('sums', Sums, undefined, { partitions: 2 });
    const files = dag.add('files', FileSink, { dir: process.env.SUMS_OUT ?? 'out/sums' });
    dag.stream('numbers', numbers.out, sums.in).keyBy((n) => n % 7);
    dag.stream('sums', sums.out, files.in);
  },
  { streamingWindowMs: 20, checkpointWindowCount: 2 },
);
