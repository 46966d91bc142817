import { describe, expect, it } from 'vitest';
import { application, InputOperator, Operator, RestartStrategy } from '../../src/index.ts';
import { spin, start } from './kit.ts';
import { Pass } from './operators.ts';

/** Shared between the source, the sink and the test (like a metrics registry would be). */
class Flow {
  emitted = 0;
  received = 0;
  /** The most tuples ever emitted by the source and not yet handled by the sink. */
  maxInFlight = 0;
  outOfOrder = 0;
  readonly allReceived: Promise<void>;
  private resolve!: () => void;

  /** Past this many tuples in flight the source fails the run at once, rather than flood the heap. */
  constructor(
    readonly total: number,
    readonly limit: number,
  ) {
    this.allReceived = new Promise((r) => (this.resolve = r));
  }

  sample(): void {
    const inFlight = this.emitted - this.received;
    if (inFlight > this.maxInFlight) this.maxInFlight = inFlight;
    if (inFlight > this.limit) throw new Error(`${inFlight} tuples in flight: the source was not paused`);
  }

  /** Sampled as each tuple arrives, so that tuple still counts as in flight. */
  receive(t: number): void {
    this.sample();
    if (t !== this.received) this.outOfOrder++;
    this.received++;
    if (this.received === this.total) this.resolve();
  }
}

/** Emits 0, 1, 2, … `perCall` at a time, as fast as the runtime lets it, up to `flow.total`. */
class Flood extends InputOperator<{}, { flow: Flow; perCall: number }> {
  readonly out = this.output<number>();

  emitTuples(): void {
    const { flow, perCall } = this.props;
    flow.sample();
    const n = Math.min(perCall, flow.total - flow.emitted);
    for (let i = 0; i < n; i++) this.out.emit(flow.emitted++);
  }
}

/** Busy for a moment every 64 tuples, and commits each window asynchronously after a delay. */
class SlowSink extends Operator<{}, { flow: Flow }> {
  readonly in = this.input<number>((t) => {
    this.props.flow.receive(t);
    if (t % 64 === 0) spin(20);
  });

  override endWindow(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('backpressure', () => {
  const mailboxCapacity = 4;
  const batchSize = 64;
  const perCall = 64;

  it.each([0, 2])(
    'pauses the source so a slow sink holds memory bounded (%s stages between them)',
    async (stages) => {
      // What can be in flight: each queued channel full, a partial batch per writer, one emitTuples() call.
      const channels = stages + 1;
      const bound = channels * (mailboxCapacity * batchSize + batchSize) + perCall;
      const flow = new Flow(200_000, 10 * bound);
      const app = application('flood', (dag) => {
        const src = dag.add('src', Flood, { flow, perCall });
        let from = src.out;
        for (let s = 0; s < stages; s++) {
          const stage = dag.add(`stage${s}`, Pass<number>);
          dag.stream(`to-stage${s}`, from, stage.in).locality('container');
          from = stage.out;
        }
        const sink = dag.add('sink', SlowSink, { flow });
        dag.stream('to-sink', from, sink.in).locality('container');
      });
      const { run } = await start(app, {
        mailboxCapacity,
        batchSize,
        checkpointWindowCount: 4,
        restart: RestartStrategy.stop(),
      });
      await Promise.race([flow.allReceived, run.done]);
      await run.stop();

      expect(flow.maxInFlight).toBeLessThanOrEqual(bound);
      // The sink did fall behind (by more than one batch): the bound was put to the test.
      expect(flow.maxInFlight).toBeGreaterThanOrEqual(2 * batchSize);
      expect(flow.received).toBe(flow.total);
      expect(flow.outOfOrder).toBe(0);
    },
    30_000,
  );
});
