import { sameMultiset } from './canonical.ts';

/** Per sink actor: window → the tuples it received in that window. */
export type SinkOutputs = Map<string, Map<number, unknown[]>>;

/**
 * Records what each sink receives, window-fenced like an exactly-once output: a window is recorded
 * when the sink ends it, once; a replayed window is compared with the recording instead (a replay whose
 * tuples differ from the first pass is reported, even though no output applied it twice).
 */
export class OutputRecorder {
  readonly outputs: SinkOutputs = new Map();
  readonly replayMismatches: string[] = [];
  private readonly last = new Map<string, number>();

  /** `fenced: false` is a debug switch: replayed windows are applied again, as an unfenced output would. */
  constructor(private readonly fenced = true) {}

  apply(sink: string, window: number, tuples: unknown[]): void {
    let windows = this.outputs.get(sink);
    if (!windows) this.outputs.set(sink, (windows = new Map()));
    if (!this.fenced && window <= (this.last.get(sink) ?? 0)) {
      windows.set(window, [...(windows.get(window) ?? []), ...tuples]);
      return;
    }
    if (window > (this.last.get(sink) ?? 0)) {
      windows.set(window, tuples);
      this.last.set(sink, window);
      return;
    }
    const before = windows.get(window) ?? [];
    if (!sameMultiset(before, tuples) && this.replayMismatches.length < 20) {
      this.replayMismatches.push(
        `sink ${sink}: window ${window} replayed with ${tuples.length} tuples, first applied with ${before.length}`,
      );
    }
  }
}
