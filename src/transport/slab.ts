import type { ColumnViews } from './numeric-columns.ts';

/**
 * Carves encoded batches out of larger buffers, and reuses a buffer once every batch in it is released.
 * A fresh ArrayBuffer per batch costs tens of microseconds (zeroed memory, external-memory accounting
 * that can start a GC), and fresh memory costs a page fault per 4 KB when first written: a replay buffer
 * that turns over tens of megabytes per second would pay that for every byte. Recycled, the buffers of
 * a channel in steady state are the same few megabytes, written again.
 *
 * The owner releases each batch when it drops it (a channel: at purge or truncate); a batch must not be
 * used after its release.
 */
export class Slab {
  private current: Chunk | undefined;
  /** Chunks with batches not yet released, by buffer. */
  private readonly chunks = new Map<ArrayBuffer, Chunk>();
  private readonly free: Chunk[] = [];
  /**
   * Most chunks in use at once so far: empty chunks are kept for reuse up to this many (a channel purges
   * at every commit and fills the same amount again before the next), past it they are left to the GC.
   */
  private mostInUse = 0;

  /**
   * Bytes per chunk: starts small and grows with the batches, so that a chunk holds at least
   * BATCHES_PER_CHUNK of them. A chunk holding one batch and a half-empty tail would make the slab twice
   * the size of what it keeps (the case study's average records come in batches of ~150 KB).
   */
  private chunkBytes: number;

  constructor(
    chunkBytes = 256 * 1024,
    // Every slab keeps its current chunk while its stream lives: bounded, for applications of many streams.
    private readonly maxChunkBytes = 2 * 1024 * 1024,
  ) {
    this.chunkBytes = chunkBytes;
  }

  /**
   * Views of the whole buffer the last `take` came from, made once per buffer: a batch codec writes its
   * columns through them at `(bytes.byteOffset + offset) / width` instead of making views per batch.
   */
  views: ColumnViews = viewsOf(new ArrayBuffer(0));

  /** `size` bytes, starting at a multiple of 8 (typed-array views of any width fit). */
  take(size: number): Uint8Array {
    let c = this.current;
    let at = c ? (c.used + 7) & ~7 : 0;
    if (!c || at + size > c.buffer.byteLength) {
      if (size * BATCHES_PER_CHUNK > this.chunkBytes && this.chunkBytes < this.maxChunkBytes) this.grow(size);
      const old = c;
      c = (size <= this.chunkBytes ? this.free.pop() : undefined) ?? chunk(Math.max(size, this.chunkBytes));
      this.current = c;
      this.views = c.views;
      this.chunks.set(c.buffer, c);
      if (this.chunks.size > this.mostInUse) this.mostInUse = this.chunks.size;
      if (old && old.live === 0) this.recycle(old);
      at = 0;
    }
    c.used = at + size;
    c.live++;
    return new Uint8Array(c.buffer, at, size);
  }

  /** The batch is dropped: its chunk is reused once all of its batches are. */
  release(bytes: Uint8Array): void {
    const c = this.chunks.get(bytes.buffer as ArrayBuffer);
    if (!c) return;
    c.live--;
    if (c.live === 0 && c !== this.current) this.recycle(c);
  }

  /** Releases the bytes last taken (nothing else was taken since); the next take reuses them. */
  giveBack(bytes: Uint8Array): void {
    const c = this.current;
    if (c && bytes.buffer === c.buffer && bytes.byteOffset + bytes.byteLength === c.used) {
      c.used = bytes.byteOffset;
      c.live--;
    } else this.release(bytes);
  }

  /** Larger chunks from now on; the free ones of the old size are left to the GC. */
  private grow(size: number): void {
    let bytes = this.chunkBytes;
    while (bytes < size * BATCHES_PER_CHUNK && bytes < this.maxChunkBytes) bytes *= 2;
    this.chunkBytes = Math.min(bytes, this.maxChunkBytes);
    this.free.length = 0;
    this.mostInUse = this.chunks.size;
  }

  private recycle(c: Chunk): void {
    this.chunks.delete(c.buffer);
    if (c.buffer.byteLength === this.chunkBytes && this.chunks.size + this.free.length < this.mostInUse) {
      c.used = 0;
      c.live = 0;
      this.free.push(c);
    }
  }
}

/** A chunk holds at least this many batches of the largest size seen (up to maxChunkBytes). */
const BATCHES_PER_CHUNK = 8;

interface Chunk {
  readonly buffer: ArrayBuffer;
  readonly views: ColumnViews;
  used: number;
  live: number;
}

function chunk(bytes: number): Chunk {
  const buffer = new ArrayBuffer((bytes + 7) & ~7);
  return { buffer, views: viewsOf(buffer), used: 0, live: 0 };
}

/** A view of each width over the whole of `buffer` (its length a multiple of 8). */
export function viewsOf(buffer: ArrayBufferLike): ColumnViews {
  return {
    f64: new Float64Array(buffer),
    i32: new Int32Array(buffer),
    i16: new Int16Array(buffer),
    i8: new Int8Array(buffer),
  };
}
