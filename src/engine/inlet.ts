import type { Channel } from './channel.ts';
import type { Message } from './messages.ts';

const NONE: readonly unknown[] = [];

/**
 * One queued input of an OperatorActor, and where the actor's merge stands in it within the open window:
 * the batch being handed to the operator (it may be handed over in parts), the messages read ahead of
 * the merge order, and whether the window's END was read and handed over.
 */
export class Inlet {
  /** The batch being handed over, and the index of its next tuple. */
  tuples: readonly unknown[] = NONE;
  pos = 0;
  /** Messages read before the merge order reached them (DATA and END only), oldest first. */
  private readonly held: Message[] = [];
  private heldHead = 0;
  /** This window's END was read: the channel is not read again until every input ended the window. */
  endRead = false;
  /** This window's END was handed over in merge order. */
  ended = false;

  constructor(
    readonly channel: Channel,
    readonly handler: (tuple: unknown) => void,
  ) {}

  get inBatch(): boolean {
    return this.pos < this.tuples.length;
  }

  /** Something to hand over now: the rest of a batch, a held message, or an unread one. */
  get available(): boolean {
    return this.pos < this.tuples.length || this.heldHead < this.held.length || this.readable;
  }

  /** The channel may be read: it has messages, and not past this window's END. */
  get readable(): boolean {
    return !this.endRead && this.channel.backlog > 0;
  }

  get heldCount(): number {
    return this.held.length - this.heldHead;
  }

  hold(m: Message): void {
    this.held.push(m);
  }

  /** The oldest held message, if any. */
  takeHeld(): Message | undefined {
    if (this.heldHead === this.held.length) return undefined;
    const m = this.held[this.heldHead]!;
    this.held[this.heldHead++] = undefined as never;
    if (this.heldHead === this.held.length) {
      this.held.length = 0;
      this.heldHead = 0;
    }
    return m;
  }

  startBatch(tuples: readonly unknown[]): void {
    this.tuples = tuples;
    this.pos = 0;
  }

  /** The batch is handed over: let it go (its tuples die young). */
  endBatch(): void {
    this.tuples = NONE;
    this.pos = 0;
  }

  /** The actor ended the window: the next window starts from a clean slate. */
  nextWindow(): void {
    this.endRead = false;
    this.ended = false;
  }
}
