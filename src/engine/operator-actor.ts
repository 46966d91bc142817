import type { InputPort } from '../api/ports.ts';
import { Actor } from './actor.ts';
import type { Channel } from './channel.ts';
import { isPromise } from './maybe-async.ts';
import { BEGIN, DATA } from './messages.ts';

interface Inlet {
  readonly channel: Channel;
  readonly handler: (tuple: unknown) => void;
}

/**
 * An actor fed by channels (its mailbox) or, when fused, called directly by its upstream.
 * With several inputs it ends window w only after every input ended it; an input that has ended w
 * is not read again until then, so no tuple of w+1 is handled inside w.
 *
 * Merging several inputs, it hands tuples to the operator in a fixed order within each window: all of
 * input 0's, then input 1's, and so on. Input k is handled as it arrives once inputs 0..k-1 have ended
 * the window; until then its batches are held (still read, so no producer waits on another). So a
 * replayed window reaches a unifier or join in the same order as the first time, and the whole output
 * is deterministic, at the cost of holding up to one window of the later inputs.
 */
export class OperatorActor extends Actor {
  private readonly inlets: Inlet[] = [];
  private ended: boolean[] = [];
  private endedCount = 0;
  private next = 0;
  /** Inputs below this index have ended the window; this one is handled live, later ones are held. */
  private live = 0;
  private held: unknown[][][] = [];
  /** Windows ≤ floor were restored from a checkpoint: their replayed messages are skipped. */
  floor = 0;
  /** Debug switch for the property tests: with it, replayed windows are applied twice. */
  skipDedupe = false;

  handlerOf(port: string): (tuple: unknown) => void {
    const p = (this.operator as any)[port] as InputPort<unknown>;
    return p.handler;
  }

  addInlet(channel: Channel, port: string): void {
    this.inlets.push({ channel, handler: this.handlerOf(port) });
    this.ended.push(false);
    this.held.push([]);
  }

  get queuedBatches(): number {
    let n = 0;
    for (const inlet of this.inlets) n += inlet.channel.backlog;
    return n;
  }

  /** True if a message could be read now. */
  get ready(): boolean {
    if (this.busy || this.disposed) return false;
    for (let i = 0; i < this.inlets.length; i++) {
      if (!this.ended[i] && this.inlets[i]!.channel.backlog > 0) return true;
    }
    return false;
  }

  /** Handles up to `budget` messages; returns how many. Throws OperatorFailure. */
  step(budget: number): number {
    let done = 0;
    while (done < budget && !this.busy && this.gateOpen()) {
      const i = this.pick();
      if (i < 0) break;
      const inlet = this.inlets[i]!;
      const m = inlet.channel.read();
      done++;
      if (m.window <= this.floor && !this.skipDedupe) continue;
      if (m.kind === DATA) {
        this.tuplesIn += m.tuples.length;
        if (i > this.live) this.held[i]!.push(m.tuples);
        else this.handle(inlet.handler, m.tuples);
      } else if (m.kind === BEGIN) {
        this.onBegin(m.window);
      } else {
        const r = this.onEnd(i);
        if (isPromise(r)) this.await(r, 'endWindow');
      }
    }
    this.flushOutlets();
    return done;
  }

  private handle(h: (tuple: unknown) => void, tuples: unknown[]): void {
    try {
      for (let k = 0; k < tuples.length; k++) h(tuples[k]);
    } catch (e) {
      throw this.tag('tuple', e);
    }
  }

  /** Input `live` ended the window: hand over what the next inputs sent meanwhile, in order. */
  private releaseHeld(): void {
    while (this.live < this.inlets.length && this.ended[this.live]) {
      this.live++;
      const held = this.held[this.live];
      if (!held || held.length === 0) continue;
      this.held[this.live] = [];
      for (const tuples of held) this.handle(this.inlets[this.live]!.handler, tuples);
    }
  }

  private pick(): number {
    const n = this.inlets.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      if (!this.ended[i] && this.inlets[i]!.channel.backlog > 0) {
        this.next = i;
        return i;
      }
    }
    return -1;
  }

  onBegin(w: number): void {
    if (!this.inWindow) this.startWindow(w);
  }

  /** Returns a promise when the window ends asynchronously. */
  onEnd(inlet: number): void | Promise<void> {
    if (!this.ended[inlet]) {
      this.ended[inlet] = true;
      this.endedCount++;
    }
    this.releaseHeld();
    if (this.endedCount < Math.max(1, this.inlets.length)) return;
    this.ended.fill(false);
    this.endedCount = 0;
    this.live = 0;
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
