/**
 * A source whose setup() waits for a file to appear (STOP_GATE: its path) and then fails (a server that
 * stays down), into a sink: for the stop-then-failure tests, on containers too (a worker loads this module
 * itself, so the gate is a file, not a promise). With STOP_GATE_SIGNAL=1 its setup() instead waits for a
 * connection that never comes, handing the wait the run's stop signal (as the Redis operators do).
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { application, InputOperator, Operator, type OperatorContext } from '../../../src/index.ts';

class GatedSource extends InputOperator<{ n: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { n: 0 };
  }
  override async setup(ctx: OperatorContext): Promise<void> {
    if (process.env.STOP_GATE_SIGNAL === '1') await sleep(600_000, undefined, { signal: ctx.stopSignal });
    const gate = process.env.STOP_GATE ?? '';
    while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 10));
    throw new Error('the server is down');
  }
  emitTuples(): void {
    this.out.emit(this.state.n++);
  }
}

class Sum extends Operator<{ sum: number }> {
  readonly in = this.input<number>((n) => {
    this.state.sum += n;
  });
  override initialState() {
    return { sum: 0 };
  }
}

export default application('setup-gate', (dag) => {
  const source = dag.add('source', GatedSource);
  const sum = dag.add('sum', Sum);
  dag.stream('numbers', source.out, sum.in);
});
