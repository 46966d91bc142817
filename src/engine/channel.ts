import { BatchEncoder, decodeBatch } from '../transport/batch-codec.ts';
import { TupleNotEncodableError } from '../transport/errors.ts';
import { OperatorFailure } from './failure.ts';
import { DATA, type Message } from './messages.ts';

/** Who writes a channel: named in the failure when a tuple cannot be kept for replay. */
export interface ChannelSource {
  readonly stream: string;
  readonly actorId: string;
  readonly operator: string;
}

/** A read DATA message as the replay buffer keeps it: the batch encoded (bytes the GC does not trace). */
const ENCODED = 3;
type Kept = Message | { readonly kind: typeof ENCODED; readonly window: number; readonly bytes: Uint8Array };

/**
 * An in-thread channel is both the consumer's mailbox and the producer's upstream buffer: one log of
 * messages with a read cursor (like Apex's buffer server DataList with a subscriber iterator).
 *
 *   base            read                     end
 *    |  read, kept   |  unread (the mailbox)  |
 *    [==============][========================]
 *
 * The unread part is the mailbox, bounded by `capacity` (producers wait for room). The read part is
 * the replay buffer: it stays until its window is committed, so a restored consumer can rewind to
 * the window after its checkpoint. With `retain` off (no checkpoints) messages are dropped once read.
 *
 * The replay buffer holds DATA batches encoded (`src/transport/batch-codec.ts`): a batch is encoded when
 * it is read, before the consumer sees its tuples, so the consumer works on the live tuples, which then
 * die young, and the log keeps only bytes. Kept as objects, ten windows of tuples would survive every
 * young-generation collection and be copied, promoted and traced again by every full one. A rewound
 * read decodes fresh tuples. A tuple that cannot be encoded fails the producing actor, naming the stream.
 */
export class Channel {
  private log: (Kept | undefined)[] = [];
  private head = 0; // index in `log` of the oldest kept message
  private readIndex = 0; // index in `log` of the next message to read
  private readonly encoder = new BatchEncoder();
  /** Tuples written, counted per batch by the writer (metrics; replays count again). */
  tuples = 0;
  /** A live sample of the batches written (src/metrics/taps.ts); null, one check per batch, when none. */
  tap: ((tuples: readonly unknown[], count: number) => void) | null = null;
  /**
   * True when `append` is done with a DATA message's tuple array once it returns (it encodes the batch
   * and keeps only bytes: a channel to another thread), so the writer may fill the same array again.
   */
  readonly copiesOnAppend: boolean = false;

  constructor(
    readonly id: number,
    readonly capacity: number,
    private readonly retain: boolean,
    readonly source?: ChannelSource,
  ) {}

  append(message: Message): void {
    this.log.push(message);
  }

  /** Messages written and not yet read. */
  get backlog(): number {
    return this.log.length - this.readIndex;
  }

  get hasRoom(): boolean {
    return this.log.length - this.readIndex < this.capacity;
  }

  /** Messages kept for replay plus the unread ones. */
  get buffered(): number {
    return this.log.length - this.head;
  }

  read(): Message {
    const i = this.readIndex;
    const m = this.log[i]!;
    if (!this.retain) {
      // Nothing will replay it: release the slot now so the batch can die young.
      this.log[i] = undefined;
      this.head = i + 1;
      this.readIndex++;
      this.compact();
      return m as Message;
    }
    if (m.kind === ENCODED) {
      this.readIndex++;
      return { kind: DATA, window: m.window, tuples: decodeBatch(m.bytes) };
    }
    if (m.kind === DATA)
      this.log[i] = { kind: ENCODED, window: m.window, bytes: this.encode(m.tuples, m.window) };
    this.readIndex++;
    return m;
  }

  private encode(tuples: readonly unknown[], window: number): Uint8Array {
    try {
      return this.encoder.encode(tuples);
    } catch (e) {
      if (!(e instanceof TupleNotEncodableError) || !this.source) throw e;
      const { stream, actorId, operator } = this.source;
      throw new OperatorFailure(actorId, operator, window, 'tuple', e.inStream(stream));
    }
  }

  /** Drops read messages of windows ≤ w: they are committed and will never be replayed. */
  purgeThrough(w: number): void {
    while (this.head < this.readIndex && this.log[this.head]!.window <= w) this.drop(this.head++);
    this.compact();
  }

  /** The consumer was restored at window w: it reads again from the first message of a later window. */
  rewindAfter(w: number): void {
    let i = this.head;
    while (i < this.log.length && this.log[i]!.window <= w) i++;
    this.readIndex = i;
  }

  /** The producer was restored at window w: what it wrote after w will be written again, so drop it. */
  truncateAfter(w: number): void {
    let end = this.log.length;
    while (end > this.head && this.log[end - 1]!.window > w) end--;
    for (let i = end; i < this.log.length; i++) this.drop(i);
    this.log.length = end;
    if (this.readIndex > end) this.readIndex = end;
  }

  private drop(i: number): void {
    const m = this.log[i]!;
    if (m.kind === ENCODED) this.encoder.release(m.bytes);
    this.log[i] = undefined;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.readIndex -= this.head;
      this.head = 0;
    }
  }
}
