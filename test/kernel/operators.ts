/** Small operators the kernel tests wire into applications. */
import { InputOperator, Operator, type OperatorContext } from '../../src/index.ts';

/** A tuple that remembers who emitted it, in which window, and its place in the source's sequence. */
export interface Tagged {
  src: string;
  /** The source's ctx.windowId when it emitted the tuple. */
  w: number;
  seq: number;
}

export interface TaggedSourceProps {
  name: string;
  /** Tuples per emitTuples() call. */
  perCall: number;
  /** Tuples per window; the source is idle once it emitted them. Default: unbounded. */
  perWindow?: number;
  /** Shared with the test: lifecycle calls as `name:begin:w` / `name:end:w`. */
  log?: string[];
  /** Shared with the test: tuples emitted per window. */
  emitted?: Map<number, number>;
}

/** A deterministic source whose state is its sequence number; it tags every tuple with its window. */
export class TaggedSource extends InputOperator<{ seq: number }, TaggedSourceProps> {
  readonly out = this.output<Tagged>();
  private ctx!: OperatorContext;
  private left = 0;

  override initialState() {
    return { seq: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }

  override beginWindow(w: number): void {
    this.left = this.props.perWindow ?? Number.POSITIVE_INFINITY;
    this.props.log?.push(`${this.props.name}:begin:${w}`);
  }

  emitTuples(): void {
    const n = Math.min(this.left, this.props.perCall);
    for (let i = 0; i < n; i++) {
      this.out.emit({ src: this.props.name, w: this.ctx.windowId, seq: this.state.seq++ });
    }
    this.left -= n;
    const emitted = this.props.emitted;
    if (emitted) emitted.set(this.ctx.windowId, (emitted.get(this.ctx.windowId) ?? 0) + n);
  }

  override endWindow(): void {
    this.props.log?.push(`${this.props.name}:end:${this.ctx.windowId}`);
  }
}

/** One lifecycle call seen by a Recorder. */
export type Call =
  | { op: string; call: 'begin'; w: number }
  | { op: string; call: 'tuple'; w: number; port: string; tuple: Tagged }
  | { op: string; call: 'end'; w: number };

export interface RecorderProps {
  name: string;
  calls: Call[];
  /** Shared with other operators and sources: lifecycle calls as `name:begin:w` / `name:end:w`. */
  log?: string[];
}

/** Records beginWindow / tuples / endWindow, with ctx.windowId, and forwards every tuple. */
export class Recorder extends Operator<{}, RecorderProps> {
  readonly out = this.output<Tagged>();
  private ctx!: OperatorContext;
  readonly in = this.input<Tagged>((t) => {
    this.props.calls.push({ op: this.props.name, call: 'tuple', w: this.ctx.windowId, port: 'in', tuple: t });
    this.out.emit(t);
  });

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }

  override beginWindow(w: number): void {
    this.props.calls.push({ op: this.props.name, call: 'begin', w });
    this.props.log?.push(`${this.props.name}:begin:${w}`);
  }

  override endWindow(): void {
    this.props.calls.push({ op: this.props.name, call: 'end', w: this.ctx.windowId });
    this.props.log?.push(`${this.props.name}:end:${this.ctx.windowId}`);
  }
}

/** Like Recorder, with two input ports `a` and `b`. */
export class TwoInputRecorder extends Operator<{}, RecorderProps> {
  private ctx!: OperatorContext;
  readonly a = this.input<Tagged>((t) => this.record('a', t));
  readonly b = this.input<Tagged>((t) => this.record('b', t));

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }

  private record(port: string, tuple: Tagged): void {
    this.props.calls.push({ op: this.props.name, call: 'tuple', w: this.ctx.windowId, port, tuple });
  }

  override beginWindow(w: number): void {
    this.props.calls.push({ op: this.props.name, call: 'begin', w });
    this.props.log?.push(`${this.props.name}:begin:${w}`);
  }

  override endWindow(): void {
    this.props.calls.push({ op: this.props.name, call: 'end', w: this.ctx.windowId });
    this.props.log?.push(`${this.props.name}:end:${this.ctx.windowId}`);
  }
}

/** Forwards its input unchanged. */
export class Pass<T> extends Operator {
  readonly out = this.output<T>();
  readonly in = this.input<T>((t) => this.out.emit(t));
}

export interface ListSourceProps<T> {
  /** The i-th tuple of the sequence (i counts from 0 across windows). */
  make: (i: number) => T;
  perWindow: number;
  /** Tuples per emitTuples() call. Default: the whole window at once. */
  perCall?: number;
  /** Stop after this many tuples in all. Default: never. */
  total?: number;
}

/** A deterministic source of `make(0), make(1), …`, `perWindow` tuples per window; its state is i. */
export class ListSource<T> extends InputOperator<{ next: number }, ListSourceProps<T>> {
  readonly out = this.output<T>();
  private left = 0;

  override initialState() {
    return { next: 0 };
  }

  override beginWindow(): void {
    this.left = this.props.perWindow;
  }

  emitTuples(): void {
    const total = this.props.total ?? Number.POSITIVE_INFINITY;
    const n = Math.min(this.left, this.props.perCall ?? this.left, total - this.state.next);
    for (let k = 0; k < n; k++) this.out.emit(this.props.make(this.state.next++));
    this.left -= n;
  }
}

/**
 * The reads of an asynchronous source (a Redis or Kafka client's, as the tests stand them in): each read
 * brings the next `chunk` numbers after `delayMs`, up to `total`, into `buffer`, then calls `landed`
 * (where the source calls ctx.wake()). One read at a time; none after stop().
 */
export class TimedReads {
  readonly buffer: number[] = [];
  private reading = false;
  private stopped = false;

  constructor(
    private next: number,
    private readonly feed: { chunk: number; delayMs: number; total?: number },
    private readonly landed: () => void,
  ) {}

  start(): void {
    if (this.reading || this.stopped) return;
    this.reading = true;
    setTimeout(() => {
      this.reading = false;
      if (this.stopped) return;
      const to = Math.min(this.next + this.feed.chunk, this.feed.total ?? Number.POSITIVE_INFINITY);
      for (let i = this.next; i < to; i++) this.buffer.push(i);
      if (to === this.next) return;
      this.next = to;
      this.landed();
    }, this.feed.delayMs);
  }

  stop(): void {
    this.stopped = true;
  }
}

/** Passes numbers on; fails once, as window `failAt` begins (downstream of the input: it replays). */
export class FailOnce extends Operator<{}, { failAt: number; log: { failed: boolean } }> {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => this.out.emit(n));

  override beginWindow(w: number): void {
    if (w !== this.props.failAt || this.props.log.failed) return;
    this.props.log.failed = true;
    throw new Error(`injected in window ${w}`);
  }
}
