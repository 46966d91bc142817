import { InputOperator, type OperatorContext } from '../src/index.ts';
import { checkProps } from './props.ts';

export interface SequenceSourceProps {
  /** Tuples each partition emits per streaming window. Default 1000. */
  tuplesPerWindow?: number;
  /** Most tuples per emitTuples() call. Default 1024. */
  batch?: number;
}

/**
 * A deterministic, replayable source: partition p of P emits p, p+P, p+2P, …, `tuplesPerWindow` more
 * per window. Its offset and what it still owes are its state: a window closed before the source emitted
 * everything it owed (on the real clock, a burst longer than the window's calls) carries the rest into the
 * next window, and a restore re-emits the same sequence.
 */
export class SequenceSource extends InputOperator<{ next: number; owed: number }, SequenceSourceProps> {
  readonly out = this.output<number>();
  private stride = 1;
  private offset = 0;

  constructor(props?: SequenceSourceProps) {
    super(props);
    checkProps('SequenceSource', this.props, { tuplesPerWindow: 'count', batch: 'positive count' });
  }

  override initialState() {
    return { next: 0, owed: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.stride = ctx.partitions;
    this.offset = ctx.partition;
  }

  override beginWindow(): void {
    this.state.owed = (this.state.owed ?? 0) + (this.props.tuplesPerWindow ?? 1000);
  }

  emitTuples(): void {
    const s = this.state;
    const n = Math.min(s.owed, this.props.batch ?? 1024);
    for (let i = 0; i < n; i++) this.out.emit(s.next++ * this.stride + this.offset);
    s.owed -= n;
  }
}
