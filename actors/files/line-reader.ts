import { readSync } from 'node:fs';

/** One line read at a byte offset: its text (without `\n` or `\r\n`) and the offset of the next line. */
export interface ReadLine {
  text: string;
  next: number;
}

/**
 * Reads lines by byte offset from an open file descriptor, through a read-ahead buffer that is only a
 * cache: every call names the offset it wants, so the caller's offset (in operator state) is the whole
 * truth and a restored operator needs nothing else. A buffer grows to hold a line longer than a chunk.
 */
export class LineReader {
  private buf = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private start = 0;

  constructor(
    private readonly fd: number,
    private readonly chunkBytes = 64 * 1024,
  ) {}

  /**
   * The line at `offset`, or undefined if the file has no complete line there (yet). At the end of the file
   * a last line without a newline is returned only if `final` (a finished file); otherwise it may still be
   * growing and is left for a later call.
   */
  line(offset: number, final: boolean): ReadLine | undefined {
    for (;;) {
      const rel = offset - this.start;
      const inBuf = rel >= 0 && rel <= this.buf.length;
      if (inBuf) {
        const nl = this.buf.indexOf(10, rel);
        if (nl >= 0) {
          const end = nl > rel && this.buf[nl - 1] === 13 ? nl - 1 : nl;
          return { text: this.buf.toString('utf8', rel, end), next: this.start + nl + 1 };
        }
      }
      // No newline after offset in the buffer: keep the tail from offset and read after it.
      const have = inBuf ? this.buf.length - rel : 0;
      const next = Buffer.allocUnsafe(Math.max(this.chunkBytes, have * 2));
      if (have > 0) this.buf.copy(next, 0, rel);
      const n = readSync(this.fd, next, have, next.length - have, offset + have);
      this.buf = next.subarray(0, have + n);
      this.start = offset;
      if (n === 0) {
        if (!final || have === 0) return undefined;
        const end = this.buf[have - 1] === 13 ? have - 1 : have;
        return { text: this.buf.toString('utf8', 0, end), next: offset + have };
      }
    }
  }

  /** Forgets the buffer (the file changed under it). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.start = 0;
  }
}
