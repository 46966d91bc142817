import type { MessagePort } from 'node:worker_threads';
import { Channel, type ChannelSource } from '../engine/channel.ts';
import { OperatorFailure } from '../engine/failure.ts';
import { DATA, type Message } from '../engine/messages.ts';
import { decodeBatch, encodeBatch } from '../transport/batch-codec.ts';
import { TupleNotEncodableError } from '../transport/errors.ts';

/*
 * A channel whose producer and consumer live in different containers (worker threads): the two ends of
 * one MessagePort pair, each a Channel to the actor that holds it, so actors, writers and the scheduler
 * treat it as the in-thread one.
 *
 *   producer container                                consumer container
 *   ChannelWriter ─append─▶ PortChannelOut ══ port ══▶ PortChannelIn ─read─▶ OperatorActor
 *                                  ▲                        │
 *                                  └──── credit(n) ◀────────┘ (after n messages were read)
 *
 * Window markers travel in-band, DATA as one encoded batch (src/transport/batch-codec.ts) in a
 * transferred ArrayBuffer: one postMessage per batch, never per tuple. Credits: the producer may have
 * `capacity` messages unread by the consumer (in the port or its mailbox); past that its gate closes
 * (hasRoom false) and the scheduler stops running it, and through it the input operators — so a slow
 * container slows its producers and memory stays bounded. Markers are appended regardless of room (as
 * in-thread), so a window's end never waits; that overshoot is at most a couple of markers.
 *
 * When a consumer's container is replaced, its producer (in a container that lives on) replays what it
 * kept since the commit into a new port (`rewire`); see ARCHITECTURE.md, Containers.
 */

/** On the port: a marker or an encoded batch (producer → consumer), or credits (consumer → producer). */
export type PortMessage =
  | { readonly k: typeof DATA; readonly w: number; readonly b: Uint8Array }
  | { readonly k: 0 | 2; readonly w: number }
  | { readonly credit: number };

/**
 * The producer's end: encodes and posts; its room is the credit the consumer granted. With `retain`
 * (checkpoints on) it keeps what it posted, encoded, until the window is committed: when the consumer's
 * container is replaced, `rewire` hands it a new port and replays that log into it (the restored consumer
 * skips the windows its checkpoint holds), as an in-thread channel rewinds its cursor.
 */
export class PortChannelOut extends Channel {
  private unacked = 0;
  private sent: Exclude<PortMessage, { credit: number }>[] = [];
  private port: MessagePort;

  constructor(
    id: number,
    capacity: number,
    port: MessagePort,
    private readonly wake: () => void,
    private readonly from?: ChannelSource,
    private readonly keep = false,
  ) {
    super(id, capacity, false, from);
    this.port = port;
    this.listen(port);
  }

  private listen(port: MessagePort): void {
    port.on('message', (m: PortMessage) => {
      if (port !== this.port || !('credit' in m)) return;
      const wasFull = this.unacked >= this.capacity;
      this.unacked -= m.credit;
      if (wasFull && this.unacked < this.capacity) this.wake();
    });
  }

  override append(message: Message): void {
    this.unacked++;
    if (message.kind !== DATA) {
      const marker = { k: message.kind, w: message.window } as const;
      if (this.keep) this.sent.push(marker);
      this.port.postMessage(marker);
      return;
    }
    const bytes = this.encodeBatch(message.tuples, message.window);
    // encodeBatch without a slab returns bytes that own their buffer: move it, do not copy it — unless it
    // is kept for a replay, then the port gets a copy.
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const b = owned ? bytes : bytes.slice();
    if (this.keep) {
      this.sent.push({ k: DATA, w: message.window, b });
      this.port.postMessage({ k: DATA, w: message.window, b });
    } else this.port.postMessage({ k: DATA, w: message.window, b }, [b.buffer as ArrayBuffer]);
  }

  /** The consumer's container was replaced: post everything kept since the commit to its new port. */
  rewire(port: MessagePort): void {
    this.port.close();
    this.port = port;
    this.listen(port);
    this.unacked = this.sent.length;
    for (const m of this.sent) port.postMessage(m);
    this.wake();
  }

  private encodeBatch(tuples: readonly unknown[], window: number): Uint8Array {
    try {
      return encodeBatch(tuples);
    } catch (e) {
      if (!(e instanceof TupleNotEncodableError) || !this.from) throw e;
      const { stream, actorId, operator } = this.from;
      throw new OperatorFailure(actorId, operator, window, 'tuple', e.inStream(stream));
    }
  }

  override get hasRoom(): boolean {
    return this.unacked < this.capacity;
  }

  /** Messages posted and not yet read by the consumer (for stats). */
  override get backlog(): number {
    return 0;
  }

  override read(): Message {
    throw new Error(`internal: channel ${this.id} is read in another container`);
  }

  /** Committed windows are never replayed. */
  override purgeThrough(w: number): void {
    let i = 0;
    while (i < this.sent.length && this.sent[i]!.w <= w) i++;
    if (i > 0) this.sent = this.sent.slice(i);
  }

  override get buffered(): number {
    return this.sent.length;
  }

  override rewindAfter(): void {}
  override truncateAfter(): void {}

  close(): void {
    this.port.close();
  }
}

/** The consumer's end: a mailbox filled by the port, read (and decoded) by the actor; grants credit back. */
export class PortChannelIn extends Channel {
  private inbox: (PortMessage | undefined)[] = [];
  private next = 0;
  private readSinceCredit = 0;
  private readonly creditEvery: number;

  constructor(
    id: number,
    capacity: number,
    private readonly port: MessagePort,
    private readonly wake: () => void,
  ) {
    super(id, capacity, false);
    // Credit in a few messages, not one per batch: fewer posts, and still never all the credit withheld.
    this.creditEvery = Math.max(1, Math.floor(capacity / 4));
    port.on('message', (m: PortMessage) => {
      this.inbox.push(m);
      if (this.inbox.length - this.next === 1) this.wake();
    });
  }

  override get backlog(): number {
    return this.inbox.length - this.next;
  }

  override get hasRoom(): boolean {
    return true;
  }

  override get buffered(): number {
    return this.backlog;
  }

  override read(): Message {
    const m = this.inbox[this.next] as Exclude<PortMessage, { credit: number }>;
    this.inbox[this.next++] = undefined;
    if (this.next > 1024 && this.next * 2 > this.inbox.length) {
      this.inbox = this.inbox.slice(this.next);
      this.next = 0;
    }
    if (++this.readSinceCredit >= this.creditEvery) {
      this.port.postMessage({ credit: this.readSinceCredit });
      this.readSinceCredit = 0;
    }
    if (m.k === DATA) return { kind: DATA, window: m.w, tuples: decodeBatch(m.b) };
    return { kind: m.k, window: m.w };
  }

  override append(): void {
    throw new Error(`internal: channel ${this.id} is written in another container`);
  }

  override purgeThrough(): void {}
  override rewindAfter(): void {}
  override truncateAfter(): void {}

  close(): void {
    this.port.close();
  }
}
