import { InputOperator, type OperatorContext } from '../../src/index.ts';
import { ReadingGenerator, type ReadingGeneratorProps } from './reading-generator.ts';
import type { Reading } from './types.ts';

export interface DeviceReadingsProps extends ReadingGeneratorProps {
  /** Readings each partition emits per streaming window (the rate). Default 1000. */
  readingsPerWindow?: number;
  /** Most readings per emitTuples() call. Default 1024. */
  batch?: number;
  /**
   * Stamps window w's readings with `timeOriginMs + (w − 1) · streamingWindowMs` instead of the run's own
   * window start, so that two runs (a test's faulty and fault-free ones, a bench's variants) read the
   * same minutes. Default: the run's window start (ctx.windowStartMs).
   */
  timeOriginMs?: number;
}

/**
 * The case study's InputReceiver: generated device readings, seeded and replayable. Reading number `n`
 * of partition p of P is a pure function of (seed, n·P + p), so the offset `next` is all a restore needs;
 * its minute and day are those of the window's start (ctx.windowStartMs, the same on replay). Rate
 * control: each window adds `readingsPerWindow` to what the partition owes, and emitTuples pays it off in
 * bursts of `batch`; what a window closed on before it was all out stays owed (state) and goes out in the
 * next window, so nothing is lost however the real clock cuts windows (the kernel's source pattern,
 * see actors/sequence-source.ts).
 */
export class DeviceReadings extends InputOperator<{ next: number; owed: number }, DeviceReadingsProps> {
  readonly out = this.output<Reading>();
  private ctx!: OperatorContext;
  private generator!: ReadingGenerator;

  override initialState() {
    return { next: 0, owed: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.generator = new ReadingGenerator(this.props);
  }

  override beginWindow(): void {
    this.state.owed += this.props.readingsPerWindow ?? 1000;
  }

  emitTuples(): void {
    const s = this.state;
    const n = Math.min(s.owed, this.props.batch ?? 1024);
    if (n === 0) return;
    const ctx = this.ctx;
    const origin = this.props.timeOriginMs;
    const ms = origin === undefined ? ctx.windowStartMs : origin + (ctx.windowId - 1) * ctx.streamingWindowMs;
    const day = Math.floor(ms / 86_400_000);
    const minute = Math.floor((ms - day * 86_400_000) / 60_000);
    const stride = ctx.partitions;
    const offset = ctx.partition;
    const g = this.generator;
    for (let i = 0; i < n; i++) this.out.emit(g.at(s.next++ * stride + offset, minute, day));
    s.owed -= n;
  }
}
