import { WindowFencedOutput } from '../src/index.ts';

/**
 * Where a CollectSink puts its output: every applied window's tuples, by window. It lives outside the
 * runtime (like a database would), so it survives restarts and relaunches in one test process. One
 * Collected may serve every partition of a sink: each partition's last applied window is its own (one
 * partition's progress must not move another's fence), and a window holds the tuples of all of them.
 */
export class Collected<T = unknown> {
  readonly windows = new Map<number, T[]>();
  /** The newest window any partition applied. */
  lastWindow = 0;
  /** Each sink actor's (partition's) newest applied window. */
  readonly lastApplied = new Map<string, number>();

  /** Every tuple of every window, in window order. */
  all(): T[] {
    return [...this.windows.keys()].sort((a, b) => a - b).flatMap((w) => this.windows.get(w)!);
  }
}

/** An exactly-once sink for tests: each window is applied once, with its id, into a Collected. */
export class CollectSink<T> extends WindowFencedOutput<T, {}, { into: Collected<T> }> {
  protected lastAppliedWindow(): number {
    return this.props.into.lastApplied.get(this.ctx.actorId) ?? 0;
  }

  protected applyWindow(window: number, tuples: T[]): void {
    const into = this.props.into;
    if (tuples.length > 0) into.windows.set(window, [...(into.windows.get(window) ?? []), ...tuples]);
    into.lastApplied.set(this.ctx.actorId, window);
    into.lastWindow = Math.max(into.lastWindow, window);
  }
}
