import type { OperatorContext, RuntimeContext } from './context.ts';
import { Operator } from './operator.ts';

/**
 * Base class for exactly-once outputs (docs/guarantees.md, Exactly-once outputs): the tuples of a window are
 * collected and applied at endWindow in one atomic step together with the window id; on replay, windows at or
 * below the last applied one are skipped. A half-processed window was never applied, a replayed one is not
 * applied twice.
 *
 * **Fencing.** Every launch, relaunch and recovery raises an epoch (persisted in the snapshot store), and
 * each instance carries the epoch it was built in (`ctx.epoch`). An instance that was replaced (its
 * endWindow outlived `lifecycleTimeoutMs`, its container or node failed, it sat behind a partition) may
 * still be running an apply; the external system must refuse it, or its window lands a second time after
 * the replacement applied it. So setup first *claims* the output for its epoch, then reads the last
 * applied window, and every apply is a conditional write:
 *
 *     setup:  claim(e)               fence := max(fence, e); refuse (FencedOutputError) if fence > e
 *             lastAppliedWindow()    read after the claim: no older instance can move it any more
 *     apply:  applyWindow(w, t, e)   atomically: if fence ≤ e and w > last applied, write t and w;
 *                                    if fence > e, write nothing and throw FencedOutputError
 *
 * Claiming before reading matters: read first, and an old instance could apply window w between the read
 * and the claim, which the new one would then apply again. A fence belongs to one physical instance
 * (partition): partitions of an output each need their own (FileSink: a directory per partition), or a
 * partition rebuilt in a recovery would fence out the others, which were not.
 *
 * Subclasses implement `lastAppliedWindow()`, `applyWindow(w, tuples, epoch)` (atomic: data, w, and the
 * epoch check together) and `claim(epoch)`. For a file, `actors/file-sink.ts`: the fence is a directory
 * of epoch files, the commit checks it and links the window file into place in one synchronous step. For
 * Redis: `claim` is a Lua script (`if GET fence > e then error; SET fence e`), and the apply either a Lua
 * script that checks `GET fence <= e` and `GET lastWindow < w` before writing the window and
 * `SET lastWindow w`, or `WATCH fence lastWindow` / `GET` both / check / `MULTI` … `SET lastWindow w`
 * `EXEC` (a nil EXEC means someone moved the fence or the window meanwhile: read again and decide).
 *
 * A subclass written before fencing (no `claim`, `applyWindow(w, tuples)`) still works and is still
 * exactly-once under replay, but not fenced: a replaced instance whose apply settles late can apply a
 * window after its replacement did (an appending or transactional sink then holds it twice). The runtime
 * never *starts* an apply in a replaced instance; only the external system can refuse a late one.
 */
/** Where the open application window's tuples are kept in `this.state` (see WindowFencedOutput.durable). */
const PENDING = '~openApplicationWindow';

export abstract class WindowFencedOutput<T, State = {}, Props = {}> extends Operator<State, Props> {
  readonly in = this.input<T>((t) => this.pending.push(t));
  protected ctx!: OperatorContext;
  private pending: T[] = [];
  private lastApplied = 0;

  /** The newest window applied, read from the external system in setup (after `claim`). */
  protected abstract lastAppliedWindow(): number | Promise<number>;
  /**
   * Applies window `window` in one atomic step with its id, only if `epoch` is not older than the newest
   * epoch that claimed the output (else: write nothing, throw FencedOutputError).
   */
  protected abstract applyWindow(window: number, tuples: T[], epoch: number): void | Promise<void>;
  /**
   * Raises the output's fence to `epoch` (never lowers it); throws FencedOutputError if a newer epoch
   * claimed it already. Called by setup after open() and before lastAppliedWindow(). Default: no fence.
   */
  protected claim(_epoch: number): void | Promise<void> {}
  /** Opens the connection or directory; called first by setup. */
  protected open(): void | Promise<void> {}
  protected close(): void | Promise<void> {}

  override async setup(ctx: OperatorContext): Promise<void> {
    this.ctx = ctx;
    // Restored inside an application window: what arrived before the checkpoint is in the state.
    if (ctx.applicationWindowCount > 1) this.pending = (this.durable()[PENDING] as T[] | undefined) ?? [];
    await this.open();
    await this.claim(ctx.epoch);
    this.lastApplied = await this.lastAppliedWindow();
    const runtime = ctx as RuntimeContext;
    if (runtime.storeUntouched && this.lastApplied > 0) {
      // Every window up to lastApplied counts as applied: this run, on a store that never applied one,
      // would skip them all as replays. Said out loud, not silently.
      runtime.warn?.(
        `${ctx.actorId}: its output already holds windows up to ${this.lastApplied}, applied from another store; this run's store has applied nothing, so its windows 1–${this.lastApplied} are skipped as already applied. Give it an empty output (another directory, database or key prefix) to write them, or relaunch on the store that wrote it`,
      );
    }
  }

  /**
   * With application windows of n > 1 streaming windows, checkpoints (every checkpointWindowCount, and a
   * graceful stop's) fall inside one: the tuples gathered so far are state, or a restore would apply the
   * application window without them. They live in `this.state` under PENDING (by reference: a checkpoint
   * encodes what has arrived by then).
   */
  private durable(): Record<string, unknown> {
    const state = this.state as unknown;
    if (typeof state !== 'object' || state === null || Array.isArray(state) || state instanceof Map) {
      throw new TypeError(
        `${this.constructor.name}: a window-fenced output with applicationWindowCount > 1 keeps its open application window in this.state, which must be a plain object`,
      );
    }
    return state as Record<string, unknown>;
  }

  override beginWindow(): void {
    this.pending = [];
    if (this.ctx.applicationWindowCount > 1) this.durable()[PENDING] = this.pending;
  }

  override endWindow(): void | Promise<void> {
    const w = this.ctx.windowId;
    const tuples = this.pending;
    this.pending = [];
    if (this.ctx.applicationWindowCount > 1) delete this.durable()[PENDING];
    if (w <= this.lastApplied) return;
    const applied = this.applyWindow(w, tuples, this.ctx.epoch);
    if (applied instanceof Promise) return applied.then(() => void (this.lastApplied = w));
    this.lastApplied = w;
  }

  override async teardown(): Promise<void> {
    await this.close();
  }
}
