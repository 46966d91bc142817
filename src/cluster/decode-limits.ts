import { Decoder } from 'cbor-x';
import { ClusterProtocolError } from './errors.ts';

/**
 * Decoding a peer's CBOR with limits. cbor-x's own `setSizeLimits` is process-wide (it would also bound
 * the snapshot codec) and knows nothing of nesting or tags, so every frame is first walked here, without
 * building anything, and only bytes that pass reach cbor-x:
 *
 * - every declared length is checked against the bytes left: an array "of 2^32 items" in 5 bytes (a
 *   decode bomb) is refused before anything is allocated, as is a string longer than the frame;
 * - nesting deeper than `maxDepth` and more than `maxItems` items in all are refused (bounded recursion);
 * - no tags at all: cbor-x's tags build objects (class instances by name, records, typed arrays over
 *   shared buffers) and shared references make cycles; frames need none of them;
 * - no indefinite lengths, no reserved or unassigned simple values, no bytes after the top item;
 * - map keys are text strings (frames are plain objects; cbor-x renames a "__proto__" key anyway).
 */
export type DecodeLimits = { maxDepth: number; maxItems: number };

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDepth: 16, maxItems: 100_000 };

const decoder = new Decoder({ useRecords: false, mapsAsObjects: true } as ConstructorParameters<
  typeof Decoder
>[0]);

const limit = (msg: string) => new ClusterProtocolError('SLUICE_CLUSTER_DECODE_LIMIT', msg);
const malformed = (msg: string) => new ClusterProtocolError('SLUICE_CLUSTER_BAD_FRAME', msg);

/** Checks `bytes` against the limits (ClusterProtocolError if not), then decodes them. */
export function decodeLimited(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown {
  new Scanner(bytes, limits).scanTop();
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new ClusterProtocolError(
      'SLUICE_CLUSTER_BAD_FRAME',
      `undecodable CBOR: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

class Scanner {
  #at = 0;
  #items = 0;
  readonly #view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: DecodeLimits,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  scanTop(): void {
    if (this.bytes.length === 0) throw malformed('empty frame');
    this.#item(1, false);
    if (this.#at !== this.bytes.length)
      throw malformed(`${this.bytes.length - this.#at} bytes after the frame`);
  }

  get #left(): number {
    return this.bytes.length - this.#at;
  }

  #need(n: number): void {
    if (n > this.#left) throw malformed(`truncated: needs ${n} bytes, ${this.#left} left`);
  }

  /** The argument of a head with additional info `info` (after the initial byte). */
  #argument(info: number): number {
    if (info < 24) return info;
    const v = this.#view;
    const at = this.#at;
    switch (info) {
      case 24:
        this.#need(1);
        this.#at += 1;
        return v.getUint8(at);
      case 25:
        this.#need(2);
        this.#at += 2;
        return v.getUint16(at);
      case 26:
        this.#need(4);
        this.#at += 4;
        return v.getUint32(at);
      case 27: {
        this.#need(8);
        this.#at += 8;
        const big = v.getBigUint64(at);
        return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      }
      case 31:
        throw malformed('indefinite-length items are not accepted');
      default:
        throw malformed(`reserved additional information ${info}`);
    }
  }

  #item(depth: number, isKey: boolean): void {
    if (depth > this.limits.maxDepth) throw limit(`nesting deeper than ${this.limits.maxDepth}`);
    if (++this.#items > this.limits.maxItems) throw limit(`more than ${this.limits.maxItems} items`);
    this.#need(1);
    const initial = this.bytes[this.#at++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (isKey && major !== 3) throw malformed('map keys must be text strings');
    if (major === 7) {
      this.#simple(info);
      return;
    }
    const n = this.#argument(info);
    switch (major) {
      case 0:
      case 1:
        return;
      case 2:
      case 3:
        this.#need(n);
        this.#at += n;
        return;
      case 4:
        // Each item takes at least one byte: more items than bytes left can only be a bomb.
        if (n > this.#left) throw limit(`array declares ${n} items with ${this.#left} bytes left`);
        for (let i = 0; i < n; i++) this.#item(depth + 1, false);
        return;
      case 5:
        if (n * 2 > this.#left) throw limit(`map declares ${n} entries with ${this.#left} bytes left`);
        for (let i = 0; i < n; i++) {
          this.#item(depth + 1, true);
          this.#item(depth + 1, false);
        }
        return;
      default:
        throw malformed(`CBOR tag ${n} is not accepted (tags can build objects or cycles)`);
    }
  }

  #simple(info: number): void {
    if (info >= 20 && info <= 23) return; // false, true, null, undefined
    if (info === 25 || info === 26 || info === 27) {
      const size = info === 25 ? 2 : info === 26 ? 4 : 8;
      this.#need(size);
      this.#at += size;
      return;
    }
    throw malformed(`simple value ${info} is not accepted`);
  }
}
