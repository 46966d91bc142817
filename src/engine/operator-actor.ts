import type { InputPort } from '../api/ports.ts';
import { Actor } from './actor.ts';
import { enterCall, leaveCall, noteConsumed } from './call-scope.ts';
import type { Channel } from './channel.ts';
import { Inlet } from './inlet.ts';
import { isPromise } from './maybe-async.ts';
import { BEGIN, DATA, END, type Message } from './messages.ts';

/**
 * Tuples the merge hands over from one input before it turns to the next. A constant, not the batch size:
 * a replay (or a relaunch with other options) must merge exactly as the first pass did.
 */
export const MERGE_CHUNK = 1024;

/**
 * A step looks at the clock after the first this many tuples of a batch, then, while the tuples are fast,
 * at doubling intervals up to MAX_TIME_CHECK: a clock read costs as much as several trivial tuples (every
 * 8 tuples cost a 2-stage stream of plain numbers 12–25 % of its rate), and a slow tuple must not hold the
 * thread for long (a turn is about a millisecond, see ActorGraph.drain).
 */
const TIME_CHECK = 8;
const MAX_TIME_CHECK = 1024;
/** Tuples are fast when an interval took less than this (1/16 of a turn): the next one may be twice as long. */
const FAST_INTERVAL_MS = 1 / 16;

/**
 * An actor fed by channels (its mailbox) or, when fused, called directly by its upstream.
 * With several inputs it ends window w only after every input ended it; an input that has ended w
 * is not read again until then, so no tuple of w+1 is handled inside w.
 *
 * Merging several inputs (a unifier, a join, a partition fed by several upstream partitions), it hands
 * tuples to the operator in lock-step within each window: MERGE_CHUNK tuples of input 0, then of input 1,
 * …, then input 0 again; an input that ended the window drops out and the others share the rest. The
 * order is a function of what each input sends in the window, counted in tuples (not of batch cuts,
 * timing or mailbox room), and each stream is deterministic, so a replayed window reaches a unifier or
 * join in the same order as the first time and the whole output is deterministic.
 *
 * While the input whose turn it is has nothing yet, the others wait in their mailboxes. A mailbox half
 * full is read ahead and its messages held (until below half), so no producer waits on another
 * input: two partitions of one upstream would otherwise deadlock (the full one blocks the upstream that
 * the empty one needs). So the merge holds only what one input runs ahead of the others — about nothing
 * when they are balanced, up to a window of the busier one when they are very skewed.
 */
export class OperatorActor extends Actor {
  private readonly inlets: Inlet[] = [];
  private endedCount = 0;
  /** The input the merge takes tuples from, and how many more before it turns to the next. */
  private turn = 0;
  private quota = MERGE_CHUNK;
  /** The input being read ahead (its mailbox half full), until it is below half its capacity; -1: none. */
  private draining = -1;
  /** Windows ≤ floor were restored from a checkpoint: their replayed messages are skipped. */
  floor = 0;
  /** Debug switch for the property tests: with it, replayed windows are applied twice. */
  skipDedupe = false;

  handlerOf(port: string): (tuple: unknown) => void {
    const p = (this.operator as any)[port] as InputPort<unknown>;
    return p.handler;
  }

  addInlet(channel: Channel, port: string): void {
    this.inlets.push(new Inlet(channel, this.handlerOf(port)));
  }

  get queuedBatches(): number {
    let n = 0;
    for (const inlet of this.inlets) n += inlet.channel.backlog + inlet.heldCount;
    return n;
  }

  /** The largest mailbox of its inputs: a step of this many messages empties a full one. */
  inletCapacity(): number {
    let n = 0;
    for (const inlet of this.inlets) n = Math.max(n, inlet.channel.capacity);
    return n;
  }

  /** True if a message could be handled or read now. */
  get ready(): boolean {
    if (this.busy || this.disposed) return false;
    const t = this.inlets[this.turn];
    if (t === undefined) return false;
    if (t.available) return true;
    return this.crowdedInlet() >= 0;
  }

  /**
   * Handles up to `budget` messages (or chunks of one), and none more once the clock passes `until`;
   * returns how many. Throws OperatorFailure.
   */
  step(budget: number, until = Number.POSITIVE_INFINITY): number {
    let done = 0;
    enterCall(this);
    try {
      while (done < budget && !this.busy && this.gateOpen() && (done === 0 || performance.now() < until)) {
        const inlet = this.inlets[this.turn];
        if (inlet === undefined) break;
        if (inlet.inBatch) this.handOver(inlet, until);
        else {
          const m = inlet.takeHeld() ?? (inlet.readable ? this.read(inlet) : undefined);
          if (m === undefined) {
            if (!this.readAhead()) break;
          } else if (m !== null) this.accept(inlet, m, until);
        }
        done++;
      }
      this.flushOutlets();
    } finally {
      leaveCall();
    }
    return done;
  }

  /** The next message of an input; null if its window was restored from the checkpoint (skipped). */
  private read(inlet: Inlet): Message | null {
    const m = inlet.channel.read();
    if (m.window <= this.floor && !this.skipDedupe) return null;
    if (m.kind === DATA) this.tuplesIn += m.tuples.length;
    else if (m.kind === END) inlet.endRead = true;
    return m;
  }

  /** A message of the input whose turn it is, in merge order. */
  private accept(inlet: Inlet, m: Message, until: number): void {
    if (m.kind === DATA) {
      inlet.startBatch(m.tuples);
      this.handOver(inlet, until);
    } else if (m.kind === BEGIN) {
      this.onBegin(m.window);
    } else {
      const r = this.onEnd(inlet);
      if (isPromise(r)) this.await(r, 'endWindow');
    }
  }

  /**
   * Hands the operator the input's batch, or the part of it that its turn still allows, or what it takes
   * until the clock passes `until` (looked at after TIME_CHECK tuples, then less often while they are
   * fast: a batch of slow tuples must not hold the thread for seconds). Where it stops does not change
   * the merge order, counted in tuples.
   */
  private handOver(inlet: Inlet, until: number): void {
    const tuples = inlet.tuples;
    const from = inlet.pos;
    const several = this.inlets.length > 1;
    const end = several ? Math.min(tuples.length, from + this.quota) : tuples.length;
    const h = inlet.handler;
    let to = from;
    let interval = TIME_CHECK;
    let checked = Number.NEGATIVE_INFINITY;
    try {
      // The inner loop is the hot one: nothing in it but the handler (a clock test per tuple cost 12 %).
      while (to < end) {
        const stop = Math.min(end, to + interval);
        for (; to < stop; to++) {
          h(tuples[to]);
          noteConsumed();
        }
        if (to === end) break;
        const now = performance.now();
        if (now >= until) break;
        if (now - checked < FAST_INTERVAL_MS && interval < MAX_TIME_CHECK) interval *= 2;
        checked = now;
      }
    } catch (e) {
      throw this.tag('tuple', e);
    }
    if (to === tuples.length) inlet.endBatch();
    else inlet.pos = to;
    if (several) {
      this.quota -= to - from;
      if (this.quota === 0) this.advance();
    }
  }

  /** The merge turns to the next input that has not ended the window, with a fresh chunk. */
  private advance(): void {
    const n = this.inlets.length;
    this.quota = MERGE_CHUNK;
    for (let k = 1; k <= n; k++) {
      const i = (this.turn + k) % n;
      if (!this.inlets[i]!.ended) {
        this.turn = i;
        return;
      }
    }
  }

  /**
   * The input whose turn it is has nothing yet: read ahead an input whose mailbox is half full (see the
   * class comment), holding what it sent. Returns false if there is none.
   */
  private readAhead(): boolean {
    let j = this.draining;
    if (j < 0 || j === this.turn || !this.keepDraining(this.inlets[j]!)) {
      j = this.crowdedInlet();
      this.draining = j;
      if (j < 0) return false;
    }
    const inlet = this.inlets[j]!;
    const m = this.read(inlet);
    if (m === null) return true;
    if (m.kind === BEGIN) this.onBegin(m.window);
    else inlet.hold(m);
    return true;
  }

  private keepDraining(inlet: Inlet): boolean {
    return !inlet.endRead && inlet.channel.backlog * 2 >= inlet.channel.capacity;
  }

  /**
   * An input other than the one whose turn it is, with a mailbox at least half full that it may read; -1
   * if none. Half, not full: across threads a producer runs out of credit before the consumer's mailbox
   * holds `capacity` messages (credits go back a few reads at a time), and `hasRoom` is the producer's
   * side; read ahead from half, no producer ever waits on the merge.
   */
  private crowdedInlet(): number {
    for (let i = 0; i < this.inlets.length; i++) {
      const inlet = this.inlets[i]!;
      if (i !== this.turn && !inlet.endRead && inlet.channel.backlog * 2 >= inlet.channel.capacity) return i;
    }
    return -1;
  }

  onBegin(w: number): void {
    if (!this.inWindow) this.startWindow(w);
  }

  /** The input handed over its END(w) in merge order. Returns a promise when the window ends asynchronously. */
  private onEnd(inlet: Inlet): void | Promise<void> {
    inlet.ended = true;
    this.endedCount++;
    if (this.endedCount < this.inlets.length) {
      this.advance();
      return;
    }
    for (const i of this.inlets) i.nextWindow();
    this.endedCount = 0;
    this.turn = 0;
    this.quota = MERGE_CHUNK;
    this.draining = -1;
    return this.finishWindow(this.window);
  }

  /** Fused input: the upstream calls these directly. */
  fusedBegin(w: number): void {
    if (w <= this.floor && !this.skipDedupe) return;
    this.onBegin(w);
  }

  fusedEnd(w: number): void | Promise<void> {
    if (w <= this.floor && !this.skipDedupe) return;
    return this.finishWindow(w);
  }
}
