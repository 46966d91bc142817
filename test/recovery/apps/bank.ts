/**
 * Two sources joined into running balances, written to exactly-once window files: the shape of the
 * kill -9 loop that once lost 28 tuples in window 179. `deposits` is written the old way (a per-window
 * quota in a field reset in beginWindow, emitted in one call), `withdrawals` the documented way (what
 * it owes is state, emitted in chunks).
 *
 * BANK_OUT names the output directory; BANK_FAIL_ONCE a marker file: the first balance actor to reach
 * window 30 creates it and throws (once across relaunches).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { application, InputOperator, Operator, type OperatorContext } from 'sluice';
import { FileSink } from 'sluice/actors';

type Movement = { account: number; amount: number; seq: number };

class Deposits extends InputOperator<{ seq: number }> {
  readonly out = this.output<Movement>();
  private left = 0;
  override initialState() {
    return { seq: 0 };
  }
  override beginWindow() {
    this.left = 40;
  }
  emitTuples() {
    for (; this.left > 0; this.left--) {
      const seq = this.state.seq++;
      this.out.emit({ account: seq % 5, amount: (seq * 13) % 97, seq });
    }
  }
}

class Withdrawals extends InputOperator<{ seq: number; owed: number }> {
  readonly out = this.output<Movement>();
  override initialState() {
    return { seq: 0, owed: 0 };
  }
  override beginWindow() {
    this.state.owed += 30;
  }
  emitTuples() {
    for (let n = 0; n < 4 && this.state.owed > 0; n++, this.state.owed--) {
      const seq = this.state.seq++;
      this.out.emit({ account: seq % 5, amount: -((seq * 7) % 53), seq });
    }
  }
}

class Balances extends Operator<{ balance: Record<string, number> }> {
  private ctx!: OperatorContext;
  readonly out = this.output<{ account: number; balance: number; seq: number }>();
  private apply = (m: Movement) => {
    const marker = process.env.BANK_FAIL_ONCE;
    if (marker && this.ctx.windowId === 30 && !existsSync(marker)) {
      writeFileSync(marker, `${this.ctx.actorId}\n`);
      throw new Error('injected: balances fail once');
    }
    const balance = (this.state.balance[m.account] ?? 0) + m.amount;
    this.state.balance[m.account] = balance;
    this.out.emit({ account: m.account, balance, seq: m.seq });
  };
  readonly deposits = this.input<Movement>(this.apply);
  readonly withdrawals = this.input<Movement>(this.apply);
  override initialState() {
    return { balance: {} };
  }
  override setup(ctx: OperatorContext) {
    this.ctx = ctx;
  }
}

export default application(
  'bank',
  (dag) => {
    const deposits = dag.add('deposits', Deposits);
    const withdrawals = dag.add('withdrawals', Withdrawals);
    const balances = dag.add('balances', Balances, undefined, { partitions: 2 });
    const files = dag.add('files', FileSink, { dir: process.env.BANK_OUT ?? 'out/bank' });
    dag.stream('deposits', deposits.out, balances.deposits).keyBy((m) => m.account);
    dag.stream('withdrawals', withdrawals.out, balances.withdrawals).keyBy((m) => m.account);
    dag.stream('balances', balances.out, files.in);
  },
  { streamingWindowMs: 20, checkpointWindowCount: 4 },
);
