import type { MessagePort } from 'node:worker_threads';
import { Channel, type ChannelSource } from '../engine/channel.ts';
import { OperatorFailure } from '../engine/failure.ts';
import { DATA, type Message } from '../engine/messages.ts';
import { BatchEncoder, decodeBatch } from '../transport/batch-codec.ts';
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
 * ArrayBuffer, never one message per tuple. Posts are coalesced: what the producer appends in one
 * synchronous turn goes as one postMessage of up to `capacity / 4` messages, packed into one transferred
 * buffer (`packPost`; a microtask posts the rest when the turn ends), so a burst of 16 batches is 4 posts,
 * 4 moved buffers and 4 wake-ups of the consumer's thread, not 16 of each (a post, a transfer and a
 * delivery cost more than encoding 1,024 numbers; copying them into one buffer costs less). The batches
 * are encoded into a reused slab (`BatchEncoder`, which also remembers the stream's shape), so the
 * producer allocates one buffer per post. Credits: the producer may have
 * `credit` messages unread by the consumer (in the port or its mailbox; containers give
 * PORT_CREDIT_FACTOR × the mailbox capacity, 64 by default); past that its gate closes
 * (hasRoom false) and the scheduler stops running it, and through it the input operators — so a slow
 * container slows its producers and memory stays bounded. Markers are appended regardless of room (as
 * in-thread), so a window's end never waits; that overshoot is at most a couple of markers.
 *
 * When a consumer's container is replaced, its producer (in a container that lives on) replays what it
 * kept since the commit into a new port (`rewire`); see ARCHITECTURE.md, Containers.
 */

/** A marker or an encoded batch (producer → consumer). */
export type PortMessage =
  | { readonly k: typeof DATA; readonly w: number; readonly b: Uint8Array }
  | { readonly k: 0 | 2; readonly w: number };

/**
 * On the port: messages packed by `packPost` (producer → consumer), or credits (consumer → producer),
 * with the post buffers the consumer has read to the end, moved back for the producer to pack into again.
 */
export type PortPost = ArrayBuffer | { readonly credit: number; readonly buffers?: ArrayBuffer[] };

const NOT_DATA = -1;

/**
 * Containers give a cross-thread channel this many times the mailbox capacity as credit: a credit comes
 * back only after a thread wake-up on each side, and with the in-thread 16 messages the producer kept
 * stopping for it (locality bench, 4 interleaved rounds at load 6: 64 took 442–600 ms and 0.50–0.56 s
 * of CPU against 671–732 ms and 0.62–0.70 s with 16). Still bounded: 64 batches of ≤ 1,024 tuples.
 */
export const PORT_CREDIT_FACTOR = 4;

/**
 * Messages in one buffer: a float64 head — their number, then (kind, window, bytes or -1) each — and each
 * batch's bytes after it, at a multiple of 8 (the batch codec's columns are read through typed views).
 * `take` gives a buffer of at least `size` bytes (a recycled one: see PostBuffers); what lies past the
 * packed messages (`postLength`) is not part of the post.
 */
export function packPost(
  messages: readonly PortMessage[],
  take: (size: number) => ArrayBuffer = (size) => new ArrayBuffer(size),
): ArrayBuffer {
  const n = messages.length;
  let size = 8 + 24 * n;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    if (m.k === DATA) size += (m.b.byteLength + 7) & ~7;
  }
  const buffer = take(size);
  const head = new Float64Array(buffer, 0, 1 + 3 * n);
  const bytes = new Uint8Array(buffer);
  head[0] = n;
  let at = 8 + 24 * n;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    head[1 + 3 * i] = m.k;
    head[2 + 3 * i] = m.w;
    if (m.k === DATA) {
      const length = m.b.byteLength;
      head[3 + 3 * i] = length;
      bytes.set(m.b, at);
      // A recycled buffer holds an older post: its padding is zeroed, so a post's bytes are its own.
      const padded = (length + 7) & ~7;
      if (padded !== length) bytes.fill(0, at + length, at + padded);
      at += padded;
    } else head[3 + 3 * i] = NOT_DATA;
  }
  return buffer;
}

/** The bytes of a `packPost` buffer that hold its messages (the buffer may be longer: recycled). */
export function postLength(buffer: ArrayBuffer): number {
  const n = new Float64Array(buffer, 0, 1)[0]!;
  const head = new Float64Array(buffer, 0, 1 + 3 * n);
  let at = 8 + 24 * n;
  for (let i = 0; i < n; i++) {
    const length = head[3 + 3 * i]!;
    if (length !== NOT_DATA) at += (length + 7) & ~7;
  }
  return at;
}

/**
 * The producer's post buffers, recycled: the consumer moves each post's buffer back with a credit once it
 * has read (decoded) all of its messages. A fresh ArrayBuffer per post cost more than the post itself
 * (zeroed memory, and external memory that V8 counts until a GC sweeps the detached buffer, so it ran
 * extra collections on both threads: the producer's thread spent ~16 % of its time in GC, and allocating
 * a 64 KiB buffer took 30–150 µs against ~20 µs for its postMessage). At most `max` are kept.
 */
export class PostBuffers {
  private free: ArrayBuffer[] = [];
  /** Buffers allocated so far (the rest of the posts were packed into recycled ones). */
  allocated = 0;
  constructor(private readonly max = 8) {}

  readonly take = (size: number): ArrayBuffer => {
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i]!;
      if (b.byteLength >= size) {
        free[i] = free[free.length - 1]!;
        free.pop();
        return b;
      }
    }
    // Rounded up, so that posts of a little more than the last still fit a recycled buffer.
    this.allocated++;
    return new ArrayBuffer(Math.ceil((size * 1.125) / 4096) * 4096);
  };

  give(buffers: readonly ArrayBuffer[]): void {
    for (const b of buffers) {
      if (b.byteLength === 0) continue; // detached (it was moved on again): nothing to reuse
      if (this.free.length < this.max) this.free.push(b);
    }
  }
}

/** The messages of a `packPost` buffer, in order; batches are views into it. */
export function unpackPost(buffer: ArrayBuffer): PortMessage[] {
  const n = new Float64Array(buffer, 0, 1)[0]!;
  const head = new Float64Array(buffer, 0, 1 + 3 * n);
  const out: PortMessage[] = new Array(n);
  let at = 8 + 24 * n;
  for (let i = 0; i < n; i++) {
    const k = head[1 + 3 * i]!;
    const w = head[2 + 3 * i]!;
    const length = head[3 + 3 * i]!;
    if (length === NOT_DATA) out[i] = { k: k as 0 | 2, w };
    else {
      out[i] = { k: DATA, w, b: new Uint8Array(buffer, at, length) };
      at += (length + 7) & ~7;
    }
  }
  return out;
}

/**
 * The producer's end: encodes and posts; its room is the credit the consumer granted. With `retain`
 * (checkpoints on) it keeps what it posted, encoded, until the window is committed: when the consumer's
 * container is replaced, `rewire` hands it a new port and replays that log into it (the restored consumer
 * skips the windows its checkpoint holds), as an in-thread channel rewinds its cursor.
 */
export class PortChannelOut extends Channel {
  private unacked = 0;
  private sent: PortMessage[] = [];
  private port: MessagePort;
  /** Appended in this turn and not posted yet. */
  private pending: PortMessage[] = [];
  private readonly batches = new BatchEncoder();
  private readonly buffers = new PostBuffers();
  private readonly postEvery: number;
  private readonly flushPending = () => this.flush();
  /** append encodes the batch before it returns: the writer may reuse its array. */
  override readonly copiesOnAppend = true;

  constructor(
    id: number,
    capacity: number,
    port: MessagePort,
    private readonly wake: () => void,
    private readonly from?: ChannelSource,
    private readonly keep = false,
    /** Messages the producer may have unread by the consumer (`capacity`, the mailbox's, for stats). */
    private readonly credit = capacity,
  ) {
    super(id, capacity, false, from);
    this.port = port;
    this.postEvery = Math.max(1, Math.floor(credit / 4));
    this.listen(port);
  }

  private listen(port: MessagePort): void {
    port.on('message', (m: PortPost) => {
      if (port !== this.port || m instanceof ArrayBuffer) return;
      if (m.buffers !== undefined) this.buffers.give(m.buffers);
      const wasFull = this.unacked >= this.credit;
      this.unacked -= m.credit;
      if (wasFull && this.unacked < this.credit) this.wake();
    });
  }

  override append(message: Message): void {
    this.unacked++;
    const m: PortMessage =
      message.kind === DATA
        ? { k: DATA, w: message.window, b: this.encodeBatch(message.tuples, message.window) }
        : { k: message.kind, w: message.window };
    // Kept (checkpoints on), the bytes stay in the slab until the window is committed (purgeThrough).
    if (this.keep) this.sent.push(m);
    this.pending.push(m);
    if (this.pending.length === 1) queueMicrotask(this.flushPending);
    if (this.pending.length >= this.postEvery) this.flush();
  }

  /** Posts what was appended and not posted yet (as one message). */
  flush(): void {
    const posted = this.pending;
    if (posted.length === 0) return;
    this.pending = [];
    const buffer = packPost(posted, this.buffers.take);
    this.port.postMessage(buffer, [buffer]);
    if (this.keep) return;
    for (const m of posted) if (m.k === DATA) this.batches.release(m.b);
  }

  /** The consumer's container was replaced: post everything kept since the commit to its new port. */
  rewire(port: MessagePort): void {
    this.port.close();
    this.port = port;
    this.listen(port);
    // What was pending is kept (rewire happens only with `keep`): it goes with the replay.
    this.pending = [];
    this.unacked = this.sent.length;
    for (let i = 0; i < this.sent.length; i += this.postEvery) {
      const buffer = packPost(this.sent.slice(i, i + this.postEvery), this.buffers.take);
      port.postMessage(buffer, [buffer]);
    }
    this.wake();
  }

  private encodeBatch(tuples: readonly unknown[], window: number): Uint8Array {
    try {
      return this.batches.encode(tuples);
    } catch (e) {
      if (!(e instanceof TupleNotEncodableError) || !this.from) throw e;
      const { stream, actorId, operator } = this.from;
      throw new OperatorFailure(actorId, operator, window, 'tuple', e.inStream(stream));
    }
  }

  override get hasRoom(): boolean {
    return this.unacked < this.credit;
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
    // Posted first: a purged batch's slab bytes may be reused, and a pending message still reads them.
    this.flush();
    let i = 0;
    while (i < this.sent.length && this.sent[i]!.w <= w) {
      const m = this.sent[i++]!;
      if (m.k === DATA) this.batches.release(m.b);
    }
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
  /** Messages received and read since the start (absolute counts, across inbox compactions). */
  private received = 0;
  private readCount = 0;
  /** Post buffers not yet read to the end, each with the count `readCount` reaches at its last message. */
  private posts: { buffer: ArrayBuffer; end: number }[] = [];
  /** Post buffers read to the end, moved back to the producer with the next credit. */
  private done: ArrayBuffer[] = [];

  constructor(
    id: number,
    capacity: number,
    private readonly port: MessagePort,
    private readonly wake: () => void,
    /** The producer's credit (PortChannelOut's `credit`): granted back a quarter at a time. */
    credit = capacity,
  ) {
    super(id, capacity, false);
    // Credit in a few messages, not one per batch: fewer posts, and still never all the credit withheld.
    this.creditEvery = Math.max(1, Math.floor(credit / 4));
    port.on('message', (buffer: ArrayBuffer) => {
      const empty = this.inbox.length === this.next;
      const posted = unpackPost(buffer);
      for (let i = 0; i < posted.length; i++) this.inbox.push(posted[i]);
      this.received += posted.length;
      this.posts.push({ buffer, end: this.received });
      if (empty) this.wake();
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
    const m = this.inbox[this.next]!;
    this.inbox[this.next++] = undefined;
    if (this.next > 1024 && this.next * 2 > this.inbox.length) {
      this.inbox = this.inbox.slice(this.next);
      this.next = 0;
    }
    // Decoded before its buffer may go back: decodeBatch copies everything out of it.
    const out: Message =
      m.k === DATA ? { kind: DATA, window: m.w, tuples: decodeBatch(m.b) } : { kind: m.k, window: m.w };
    this.readCount++;
    while (this.posts.length > 0 && this.posts[0]!.end <= this.readCount)
      this.done.push(this.posts.shift()!.buffer);
    if (++this.readSinceCredit >= this.creditEvery) {
      if (this.done.length === 0) this.port.postMessage({ credit: this.readSinceCredit });
      else {
        const buffers = this.done;
        this.done = [];
        this.port.postMessage({ credit: this.readSinceCredit, buffers }, buffers);
      }
      this.readSinceCredit = 0;
    }
    return out;
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
