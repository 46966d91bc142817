import type { OperatorContext } from './context.ts';
import { Operator } from './operator.ts';

/**
 * Base class for exactly-once outputs (DESIGN §4): the tuples of a window are collected and applied at
 * endWindow in one atomic step together with the window id; on replay, windows at or below the last
 * applied one are skipped. A half-processed window was never applied, a replayed one is not applied twice.
 *
 * Subclasses implement `lastAppliedWindow()` (read from the external system in setup) and
 * `applyWindow(w, tuples)` (atomic: data and w together).
 */
export abstract class WindowFencedOutput<T, State = {}, Props = {}> extends Operator<State, Props> {
  readonly in = this.input<T>((t) => this.pending.push(t));
  protected ctx!: OperatorContext;
  private pending: T[] = [];
  private lastApplied = 0;

  protected abstract lastAppliedWindow(): number | Promise<number>;
  protected abstract applyWindow(window: number, tuples: T[]): void | Promise<void>;
  /** Opens the connection or directory; called by setup before lastAppliedWindow(). */
  protected open(): void | Promise<void> {}
  protected close(): void | Promise<void> {}

  override async setup(ctx: OperatorContext): Promise<void> {
    this.ctx = ctx;
    await this.open();
    this.lastApplied = await this.lastAppliedWindow();
  }

  override beginWindow(): void {
    this.pending = [];
  }

  override endWindow(): void | Promise<void> {
    const w = this.ctx.windowId;
    const tuples = this.pending;
    this.pending = [];
    if (w <= this.lastApplied) return;
    const applied = this.applyWindow(w, tuples);
    if (applied instanceof Promise) return applied.then(() => void (this.lastApplied = w));
    this.lastApplied = w;
  }

  override async teardown(): Promise<void> {
    await this.close();
  }
}
