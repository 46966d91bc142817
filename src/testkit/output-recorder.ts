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
  /** Windows an exactly-once output's own applyWindow completed twice (SLUICE_DUPLICATE_APPLY). */
  readonly duplicateApplies: string[] = [];
  private readonly last = new Map<string, number>();
  /** Output actor → window → the epoch of the instance whose applyWindow completed it. */
  private readonly appliedBy = new Map<string, Map<number, number>>();

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

  /**
   * A relaunch builds the application again (`app.dag()`): an output's "external system" may be built
   * with it (a `Collected` made in the DAG builder), so its windows are checked within one launch only.
   */
  newLaunch(): void {
    this.appliedBy.clear();
  }

  /**
   * A WindowFencedOutput's own `applyWindow` completed `window` (the kit fences what sinks receive
   * itself, so the output's `claim`/`lastAppliedWindow` are checked here): twice in one launch means a
   * replacement instance applied what an earlier one had, its external write landing twice. In one
   * thread only (on containers a replaced worker builds the application again).
   */
  applied(output: string, window: number, epoch: number): void {
    let windows = this.appliedBy.get(output);
    if (!windows) this.appliedBy.set(output, (windows = new Map()));
    const first = windows.get(window);
    if (first === undefined) {
      windows.set(window, epoch);
      return;
    }
    if (this.duplicateApplies.length < 20) {
      this.duplicateApplies.push(
        `output ${output} applied window ${window} twice (by its instance of epoch ${first}, then by that of epoch ${epoch}): its lastAppliedWindow() must return the newest window applied, read after claim() from where applyWindow writes it (docs/operators.md, WindowFencedOutput)`,
      );
    }
  }
}
