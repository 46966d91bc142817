/** Small operators the kernel tests wire into applications. */
import { readFileSync } from 'node:fs';
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

interface Feed {
  /** Numbers a read brings, and how long it takes. */
  chunk: number;
  delayMs: number;
  /** The source has this many numbers in all (then reads bring nothing). */
  total: number;
  /** A file holding `total` instead, read at setup (a relaunch on other threads or nodes sees it grow). */
  totalFile?: string;
}

/**
 * Count windows over a slow asynchronous source (as RedisStreamReadings with `countWindows`): each
 * window is owed `perWindow` numbers and holds the window open until it emitted them, however long the
 * reads take. State: the next number and what the windows are still owed.
 */
export interface CountedProps extends Feed {
  perWindow: number;
  /** Shared with the test: emitTuples() calls that found nothing read ahead. */
  emptyCalls?: { n: number };
}

export class CountedNumbers extends InputOperator<{ next: number; owed: number }, CountedProps> {
  readonly out = this.output<number>();
  private reads!: TimedReads;

  override initialState() {
    return { next: 0, owed: 0 };
  }

  override setup(ctx: OperatorContext): void {
    const file = this.props.totalFile;
    const feed = file ? { ...this.props, total: Number(readFileSync(file, 'utf8')) } : this.props;
    this.reads = new TimedReads(this.state.next, feed, () => ctx.wake());
  }

  override beginWindow(): void {
    this.state.owed += this.props.perWindow;
  }

  override holdsWindow(): boolean {
    return this.state.owed > 0;
  }

  emitTuples(): boolean {
    const buffer = this.reads.buffer;
    if (buffer.length === 0) {
      if (this.props.emptyCalls) this.props.emptyCalls.n++;
      this.reads.start();
      return false;
    }
    const s = this.state;
    for (const n of buffer.splice(0, Math.min(8, s.owed))) {
      s.next = n + 1;
      s.owed--;
      this.out.emit(n);
    }
    return true;
  }

  override teardown(): void {
    this.reads.stop();
  }
}
