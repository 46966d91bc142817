import { WindowFencedOutput } from '../src/index.ts';

/**
 * Where a CollectSink puts its output: every applied window's tuples, by window. It lives outside the
 * runtime (like a database would), so it survives restarts and relaunches in one test process.
 */
export class Collected<T = unknown> {
  readonly windows = new Map<number, T[]>();
  lastWindow = 0;

  /** Every tuple of every window, in window order. */
  all(): T[] {
    return [...this.windows.keys()].sort((a, b) => a - b).flatMap((w) => this.windows.get(w)!);
  }
}

/** An exactly-once sink for tests: each window is applied once, with its id, into a Collected. */
export class CollectSink<T> extends WindowFencedOutput<T, {}, { into: Collected<T> }> {
  protected lastAppliedWindow(): number {
    return this.props.into.lastWindow;
  }

  protected applyWindow(window: number, tuples: T[]): void {
    const into = this.props.into;
    if (tuples.length > 0) into.windows.set(window, tuples);
    into.lastWindow = window;
  }
}
