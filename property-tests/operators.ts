import { DurableMap, InputOperator, Operator, type OperatorContext } from '../src/index.ts';

const dropOwed = process.env.SLUICE_DEBUG_DROP_OWED === '1';

/** Every tuple of the property tests: a key, a value, and the branch it came through (set at joins). */
export type Tuple = { k: number; v: number; p: string };

/**
 * Deterministic keyed source; partitions emit disjoint keys so each key has one upstream path. What it
 * owes is state, so a window cut early (a timing fault) carries the rest into the next window.
 */
export class KeyedSource extends InputOperator<
  { seq: number; owed: number },
  { perWindow: number; keys: number; batch: number }
> {
  readonly out = this.output<Tuple>();
  private partition = 0;
  private partitions = 1;

  override initialState() {
    return { seq: 0, owed: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.partition = ctx.partition;
    this.partitions = ctx.partitions;
  }

  override beginWindow(): void {
    // The debug switch writes the source the wrong way (a per-window quota that forgets what a cut left
    // owing), to see the boundary property catch it.
    this.state.owed = (dropOwed ? 0 : this.state.owed) + this.props.perWindow;
  }

  emitTuples(): void {
    const n = Math.min(this.state.owed, this.props.batch);
    for (let i = 0; i < n; i++) {
      const seq = this.state.seq++;
      const k = (seq % this.props.keys) * this.partitions + this.partition;
      this.out.emit({ k, v: (seq * 7919 + this.partition) % 1009, p: '' });
    }
    this.state.owed -= n;
  }
}

export class MapStage extends Operator<{}, { a: number; b: number }> {
  readonly out = this.output<Tuple>();
  readonly in = this.input<Tuple>((t) =>
    this.out.emit({ ...t, v: (t.v * this.props.a + this.props.b) % 1009 }),
  );
}

export class FilterStage extends Operator<{}, { m: number }> {
  readonly out = this.output<Tuple>();
  readonly in = this.input<Tuple>((t) => {
    if (t.v % this.props.m !== 0) this.out.emit(t);
  });
}

/**
 * Per-key running sum, emitted at every tuple (order-sensitive: only placed where each key has one path).
 * Its sums are a DurableMap, so random DAGs under faults exercise incremental checkpoints too.
 */
export class RunningSumStage extends Operator<{ sums: DurableMap<number, number> }> {
  readonly out = this.output<Tuple>();
  readonly in = this.input<Tuple>((t) => {
    const sum = (this.state.sums.get(t.k) ?? 0) + t.v;
    this.state.sums.set(t.k, sum);
    this.out.emit({ ...t, v: sum });
  });

  override initialState() {
    return { sums: new DurableMap<number, number>() };
  }
}

/** Per-window sum and count per key, emitted at endWindow in key order (order-insensitive). */
export class WindowAggregateStage extends Operator<
  { acc: Map<number, [number, number]> },
  { async?: boolean }
> {
  readonly out = this.output<Tuple>();
  readonly in = this.input<Tuple>((t) => {
    const [s, c] = this.state.acc.get(t.k) ?? [0, 0];
    this.state.acc.set(t.k, [s + t.v, c + 1]);
  });

  override initialState() {
    return { acc: new Map<number, [number, number]>() };
  }

  /** With `async`, it emits after a turn of the event loop, as an output waiting for I/O would. */
  override endWindow(): void | Promise<void> {
    if (this.props.async)
      return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.emitAll());
    this.emitAll();
  }

  private emitAll(): void {
    for (const k of [...this.state.acc.keys()].sort((a, b) => a - b)) {
      const [s, c] = this.state.acc.get(k)!;
      this.out.emit({ k, v: s * 1000 + c, p: '' });
    }
    this.state.acc.clear();
  }
}

/** Joins two branches; tags each tuple with its branch, since the order across branches may differ. */
export class JoinStage extends Operator {
  readonly out = this.output<Tuple>();
  readonly a = this.input<Tuple>((t) => this.out.emit({ ...t, p: `${t.p}a` }));
  readonly b = this.input<Tuple>((t) => this.out.emit({ ...t, p: `${t.p}b` }));
}

/** A stateful unifier: numbers what it forwards (so a wrong merge order or a lost restore shows). */
export class CountingUnifier extends Operator<{ n: number }> {
  readonly out = this.output<Tuple>();
  readonly in = this.input<Tuple>((t) => this.out.emit({ ...t, v: t.v * 1000 + (this.state.n++ % 1000) }));

  override initialState() {
    return { n: 0 };
  }
}
