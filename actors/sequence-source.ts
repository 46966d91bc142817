import { InputOperator, type OperatorContext } from '../src/index.ts';

export interface SequenceSourceProps {
  /** Tuples each partition emits per streaming window. Default 1000. */
  tuplesPerWindow?: number;
  /** Most tuples per emitTuples() call. Default 1024. */
  batch?: number;
}

/**
 * A deterministic, replayable source: partition p of P emits p, p+P, p+2P, … exactly
 * `tuplesPerWindow` per window. Its offset is its state, so a restore re-emits the same sequence.
 */
export class SequenceSource extends InputOperator<{ next: number }, SequenceSourceProps> {
  readonly out = this.output<number>();
  private leftInWindow = 0;
  private stride = 1;
  private offset = 0;

  override initialState() {
    return { next: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.stride = ctx.partitions;
    this.offset = ctx.partition;
  }

  override beginWindow(): void {
    this.leftInWindow = this.props.tuplesPerWindow ?? 1000;
  }

  emitTuples(): void {
    const n = Math.min(this.leftInWindow, this.props.batch ?? 1024);
    const s = this.state;
    for (let i = 0; i < n; i++) this.out.emit(s.next++ * this.stride + this.offset);
    this.leftInWindow -= n;
  }
}
