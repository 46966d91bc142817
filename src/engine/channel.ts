import type { Message } from './messages.ts';

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
 */
export class Channel {
  private log: (Message | undefined)[] = [];
  private head = 0; // index in `log` of the oldest kept message
  private readIndex = 0; // index in `log` of the next message to read

  constructor(
    readonly id: number,
    readonly capacity: number,
    private readonly retain: boolean,
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
    const m = this.log[this.readIndex]!;
    if (!this.retain) {
      // Nothing will replay it: release the slot now so the batch can die young.
      this.log[this.readIndex] = undefined;
      this.head = this.readIndex + 1;
    }
    this.readIndex++;
    if (!this.retain) this.compact();
    return m;
  }

  /** Drops read messages of windows ≤ w: they are committed and will never be replayed. */
  purgeThrough(w: number): void {
    while (this.head < this.readIndex && this.log[this.head]!.window <= w) this.log[this.head++] = undefined;
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
    this.log.length = end;
    if (this.readIndex > end) this.readIndex = end;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.readIndex -= this.head;
      this.head = 0;
    }
  }
}
