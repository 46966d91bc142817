/**
 * A source whose setup() waits for a file to appear (STOP_GATE: its path) and then fails (a server that
 * stays down), into a sink: for the stop-then-failure tests, on containers too (a worker loads this module
 * itself, so the gate is a file, not a promise).
 */
import { existsSync } from 'node:fs';
import { application, InputOperator, Operator } from '../../../src/index.ts';

class GatedSource extends InputOperator<{ n: number }> {
  readonly out = this.output<number>();
  override initialState() {
    return { n: 0 };
  }
  override async setup(): Promise<void> {
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
