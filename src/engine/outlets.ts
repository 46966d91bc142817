import { partitionOf } from '../core/hash.ts';
import type { RoutePlan } from '../plan/physical-plan.ts';
import { insideCall, noteProgress } from './call-scope.ts';
import type { Channel } from './channel.ts';
import { BEGIN, DATA, END } from './messages.ts';

export type Emit = (tuple: unknown) => void;

/** Where an actor's output goes: a queued channel or a fused downstream actor. */
export interface Outlet {
  readonly push: Emit;
  begin(window: number): void;
  /** May return a promise when a fused downstream ends its window asynchronously. */
  end(window: number): void | Promise<void>;
  flush(): void;
}

/**
 * Batches tuples into DATA messages on a channel; window markers flush first so order holds. A batch is
 * allocated at its full size and filled by index (growing an array by push costs more), when its first
 * tuple comes: an idle channel holds no batch (8 KB each: an application of thousands of channels held
 * hundreds of megabytes of empty batches).
 */
export class ChannelWriter implements Outlet {
  /** The batch being filled; null until the next tuple (and for good once discarded). */
  private pending: unknown[] | null = null;
  private count = 0;
  private window = 0;
  /** Its actor was replaced: whatever the old operator still emits (a late async endWindow) is dropped. */
  private discarded = false;

  /**
   * @param runConsumer called after each batch written to a mailbox in this thread: the consumer may run
   *   inline, at once (ActorGraph.runInline), while the batch is young and in cache. Null: it queues.
   */
  constructor(
    readonly channel: Channel,
    private readonly batchSize: number,
    private readonly runConsumer: (() => void) | null = null,
  ) {}

  /** Between its window's END and the next BEGIN: a tuple then belongs to no window. */
  private betweenWindows = true;
  /** Tuples emitted between windows, dropped at flush: the actor's next window start fails the run. */
  private strayTuples = 0;
  /** Batches begun while a window was open but no call of the runtime's was running (see call-scope.ts). */
  emittedOutsideCalls = 0;

  /** Tuples emitted between windows (in setup, a hook, a timer): at a window's start, any fails the run. */
  get strays(): number {
    return this.strayTuples + (this.betweenWindows ? this.count : 0);
  }

  readonly push: Emit = (tuple) => {
    if (this.count === 0 && !this.startBatch()) return;
    this.pending![this.count++] = tuple;
    if (this.count === this.batchSize) this.flush();
    // A long call that emits slowly fills no batch for seconds: every 64 tuples count as progress too.
    else if ((this.count & 63) === 0) noteProgress();
  };

  /**
   * A batch's first tuple: allocates the batch unless one is kept for refilling. Every call of the runtime
   * ends with a flush, so a tuple from outside any call starts a batch, and noting it here costs nothing
   * per tuple. Returns false once discarded.
   */
  private startBatch(): boolean {
    if (this.discarded) return false;
    if (!this.betweenWindows && !insideCall()) this.emittedOutsideCalls++;
    noteProgress();
    if (this.pending === null) this.pending = new Array(this.batchSize);
    return true;
  }

  begin(window: number): void {
    if (this.discarded) return;
    this.flush();
    this.betweenWindows = false;
    this.window = window;
    this.channel.append({ kind: BEGIN, window });
  }

  end(window: number): void {
    if (this.discarded) return;
    this.flush();
    this.betweenWindows = true;
    this.channel.append({ kind: END, window });
  }

  flush(): void {
    if (this.count === 0 || this.discarded) return;
    if (this.betweenWindows) {
      // Never sent: a tuple of no window would reach the consumer after END or before BEGIN.
      this.strayTuples += this.count;
      this.count = 0;
      return;
    }
    const tuples = this.pending!;
    if (this.count < this.batchSize) tuples.length = this.count;
    const ch = this.channel;
    ch.tuples += this.count;
    if (ch.tap !== null) ch.tap(tuples, this.count);
    ch.append({ kind: DATA, window: this.window, tuples });
    // A channel that encodes on append leaves the array to us: refilled, not one more 8 KB array per batch.
    if (!ch.copiesOnAppend || tuples.length < this.batchSize) this.pending = null;
    this.count = 0;
    if (this.runConsumer !== null) this.runConsumer();
  }

  /** After a failure: what was batched but not yet written belongs to a window that will be redone. */
  discard(): void {
    this.discarded = true;
    this.pending = null;
    this.count = 0;
  }
}

/** Round-robin routes restart at every window so that a replayed window deals tuples the same way. */
export interface WindowReset {
  reset(): void;
}

/** Builds the emit function of one output port from its routes; returns resets for round-robin routes. */
export function buildEmit(
  routes: readonly RoutePlan[],
  outletOf: (channel: number) => Outlet,
  resets: WindowReset[],
): Emit | undefined {
  const emits = routes.map((r) => routeEmit(r, outletOf, resets));
  if (emits.length === 0) return undefined;
  if (emits.length === 1) return emits[0]!;
  return (tuple) => {
    for (let i = 0; i < emits.length; i++) emits[i]!(tuple);
  };
}

function routeEmit(route: RoutePlan, outletOf: (channel: number) => Outlet, resets: WindowReset[]): Emit {
  switch (route.kind) {
    case 'single':
      return outletOf(route.channel).push;
    case 'keyed': {
      const targets = route.channels.map((c) => outletOf(c).push);
      const n = targets.length;
      const keyOf = route.keyOf;
      return (tuple) => targets[partitionOf(keyOf(tuple), n)]!(tuple);
    }
    case 'roundRobin': {
      const targets = route.channels.map((c) => outletOf(c).push);
      const state = { next: 0, reset: () => (state.next = 0) };
      resets.push(state);
      return (tuple) => {
        const i = state.next;
        state.next = i + 1 === targets.length ? 0 : i + 1;
        targets[i]!(tuple);
      };
    }
  }
}
