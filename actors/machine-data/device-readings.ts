import { InputOperator, type OperatorContext } from '../../src/index.ts';
import { checkProps } from '../props.ts';
import { resolveRanges } from './dimension-space.ts';
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
  /**
   * How the partitions share the readings. 'sequence' (default): partition p of P emits reading numbers
   * n·P + p. 'device': every partition reads the whole sequence (readingsPerWindow · P numbers a window,
   * two hashes each to learn the device) and emits the readings of its devices, those with
   * (device − min) mod P = p: about readingsPerWindow a window. Either way a window holds the same
   * readings for every P. With 'device' the dimension keys that name a device (76,800 of the case study's
   * 78,336) occur in one partition only, so its partial sums are not added up again downstream: the
   * partitions' partials do not double (the case study's key-range partitioning, done by the source).
   */
  partitionBy?: 'sequence' | 'device';
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
  private deviceMin = 1;

  constructor(props?: DeviceReadingsProps) {
    super(props);
    checkProps('DeviceReadings', this.props, {
      // A share: with partitionBy 'device' each partition scans readingsPerWindow · partitions numbers.
      readingsPerWindow: 'non-negative',
      batch: 'positive count',
      timeOriginMs: 'finite',
      seed: 'finite',
      partitionBy: ['sequence', 'device'],
    });
    new ReadingGenerator(this.props); // checks the ranges and usages now, not at setup
  }

  override initialState() {
    return { next: 0, owed: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.generator = new ReadingGenerator(this.props);
    this.deviceMin = resolveRanges(this.props.ranges).device[0];
  }

  override beginWindow(): void {
    const share = this.props.readingsPerWindow ?? 1000;
    this.state.owed += this.props.partitionBy === 'device' ? share * this.ctx.partitions : share;
  }

  emitTuples(): void {
    const s = this.state;
    const ctx = this.ctx;
    const byDevice = this.props.partitionBy === 'device';
    // By device, `owed` counts reading numbers to scan (every partition scans all), `batch` the emitted.
    const n = Math.min(s.owed, (this.props.batch ?? 1024) * (byDevice ? ctx.partitions : 1));
    if (n === 0) return;
    const origin = this.props.timeOriginMs;
    const ms = origin === undefined ? ctx.windowStartMs : origin + (ctx.windowId - 1) * ctx.streamingWindowMs;
    const day = Math.floor(ms / 86_400_000);
    const minute = Math.floor((ms - day * 86_400_000) / 60_000);
    const g = this.generator;
    if (byDevice) {
      const partitions = ctx.partitions;
      const mine = ctx.partition;
      const min = this.deviceMin;
      for (let i = 0; i < n; i++) {
        const index = s.next++;
        if ((g.deviceAt(index) - min) % partitions === mine) this.out.emit(g.at(index, minute, day));
      }
    } else {
      const stride = ctx.partitions;
      const offset = ctx.partition;
      for (let i = 0; i < n; i++) this.out.emit(g.at(s.next++ * stride + offset, minute, day));
    }
    s.owed -= n;
  }
}
