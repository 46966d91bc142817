import { crc32 } from 'node:zlib';
import { FRAME_HEADER, FRAME_VERSION, SealedFrame } from './codec.ts';

/** The head of a CBOR data item: major type and argument (RFC 8949 §3). */
export function cborHead(major: number, n: number): Uint8Array {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  const b = new Uint8Array(5);
  b[0] = m | 26;
  new DataView(b.buffer).setUint32(1, n);
  return b;
}

/**
 * Assembles a checksummed frame (the codec's layout: version, CRC-32, payload) from pieces that are
 * already CBOR, a bounded number of bytes per `step()`: a 16 MB frame allocated and copied at once blocks
 * the event loop for a long time on a busy machine (fresh pages fault in as they are first written), in
 * steps it is spread over scheduler turns. The CRC is computed piece by piece as the bytes are copied.
 */
export class FrameBuilder {
  private readonly frame: Uint8Array;
  private position = FRAME_HEADER;
  private piece = 0;
  private offset = 0;
  private crc = 0;

  constructor(private readonly pieces: readonly Uint8Array[]) {
    let length = FRAME_HEADER;
    for (const p of pieces) length += p.length;
    this.frame = new Uint8Array(length);
  }

  get done(): boolean {
    return this.piece >= this.pieces.length;
  }

  /** Copies up to `maxBytes` more; true when the frame is complete. */
  step(maxBytes: number): boolean {
    let budget = maxBytes;
    while (!this.done && budget > 0) {
      const p = this.pieces[this.piece]!;
      const n = Math.min(budget, p.length - this.offset);
      const chunk = p.subarray(this.offset, this.offset + n);
      this.frame.set(chunk, this.position);
      this.crc = crc32(chunk, this.crc);
      this.position += n;
      this.offset += n;
      budget -= n;
      if (this.offset === p.length) {
        this.piece++;
        this.offset = 0;
      }
    }
    return this.done;
  }

  /** The finished frame (after `step()` returned true). */
  sealed(): SealedFrame {
    this.frame[0] = FRAME_VERSION;
    new DataView(this.frame.buffer, this.frame.byteOffset).setUint32(1, this.crc >>> 0);
    return new SealedFrame(this.frame);
  }
}

/** The frame of one CBOR payload, at once (what sealState makes of the value it encodes). */
export function sealEncoded(payload: Uint8Array): SealedFrame {
  const builder = new FrameBuilder([payload]);
  builder.step(payload.length);
  return builder.sealed();
}
