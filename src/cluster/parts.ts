import { crc32 } from 'node:zlib';
import { ClusterProtocolError } from './errors.ts';
import { type ClusterFrame, MAX_PAYLOAD } from './frames.ts';

/**
 * Bodies larger than one frame (a snapshot of several MiB, its restore) cross as `part` frames: the body's
 * bytes cut into pieces that each fit a frame, sent back to back, reassembled and checked before anything
 * reads them.
 *
 * ```text
 * sender:   body (CBOR, N bytes) --split--> part{index 0, total N, sum crc32(body)} part{1} … part{k}
 * receiver: part 0 opens the assembly (total ≤ maxMessage) --parts 1…k in order, same id/total/sum-->
 *           N bytes received --crc32 matches--> the body, handled as the call or reply it is
 *           anything else (out of order, another body's part, more bytes than declared, a bad sum)
 *           --> SLUICE_CLUSTER_BAD_PART: the connection is refused, the assembly dropped
 * ```
 *
 * The sender writes all parts of a body in one synchronous loop, so on the wire they are never interleaved
 * with another body's parts: one assembly per connection at a time is all a receiver ever needs. Memory is
 * bounded by what arrived, never by what a peer declares: the pieces are kept as received and joined once
 * the last one is in, so a peer announcing 64 MiB and sending 1 KiB costs 1 KiB.
 */
export type PartFrame = Extract<ClusterFrame, { t: 'part' }>;
/** What the parts make up: an RPC call or reply (rpc.ts), or a stream's post too large for one frame (link-bridge.ts). */
export type PartOf = 'call' | 'reply' | 'post';

/** Room left in a frame for the part's other fields (their CBOR is under 100 bytes). */
const PART_HEADROOM = 1024;
/** The largest piece of a body one part carries, with the default frame limit. */
export const PART_BYTES = MAX_PAYLOAD - PART_HEADROOM;
/** The largest body a connection reassembles (a snapshot bigger than this is refused by its sender). */
export const MAX_MESSAGE = 64 << 20;

export type PartLimits = { partBytes: number; maxMessage: number };
export const DEFAULT_PART_LIMITS: PartLimits = { partBytes: PART_BYTES, maxMessage: MAX_MESSAGE };

/** The parts of `body`, in order. */
export function splitBody(of: PartOf, id: number, body: Uint8Array, partBytes = PART_BYTES): PartFrame[] {
  const total = body.length;
  const sum = crc32(body);
  const parts: PartFrame[] = [];
  for (let at = 0, index = 0; at < total; at += partBytes, index++)
    parts.push({ t: 'part', id, of, index, total, sum, bytes: body.subarray(at, at + partBytes) });
  return parts;
}

const bad = (why: string) => new ClusterProtocolError('SLUICE_CLUSTER_BAD_PART', why);

type Assembly = { of: PartOf; id: number; total: number; sum: number; next: number; received: number };

/** One connection's receiving side: takes parts in order, gives back each body once complete and checked. */
export class PartAssembler {
  #open: Assembly | undefined;
  #pieces: Uint8Array[] = [];

  constructor(
    private readonly limits: PartLimits = DEFAULT_PART_LIMITS,
    /** The bodies this connection carries in parts: any other is refused. */
    private readonly kinds: readonly PartOf[] = ['call', 'reply'],
  ) {}

  /** Bytes held for the body being assembled (tests check the bound). */
  get held(): number {
    return this.#open?.received ?? 0;
  }

  /** The body once its last part is in; undefined before; ClusterProtocolError if the part breaks a rule. */
  accept(part: PartFrame): { of: PartOf; id: number; body: Uint8Array } | undefined {
    try {
      return this.#accept(part);
    } catch (e) {
      this.#open = undefined;
      this.#pieces = [];
      throw e;
    }
  }

  #accept(part: PartFrame): { of: PartOf; id: number; body: Uint8Array } | undefined {
    const { id, index, total, sum, bytes } = part;
    const of = part.of as PartOf;
    if (!this.kinds.includes(of as PartOf)) throw bad(`a part of a ${JSON.stringify(of).slice(0, 40)}`);
    if (bytes.length === 0 || bytes.length > this.limits.partBytes)
      throw bad(`a part of ${bytes.length} bytes (1 to ${this.limits.partBytes})`);
    let a = this.#open;
    if (a === undefined) {
      if (index !== 0) throw bad(`part ${index} of ${of} ${id} before its part 0`);
      if (total > this.limits.maxMessage)
        throw bad(`a ${of} of ${total} bytes declared, over the ${this.limits.maxMessage}-byte limit`);
      if (sum > 0xffffffff) throw bad(`a checksum of ${sum} (not a CRC-32)`);
      a = { of, id, total, sum, next: 0, received: 0 };
      this.#open = a;
    } else if (a.of !== of || a.id !== id) {
      throw bad(`a part of ${of} ${id} inside ${a.of} ${a.id} (parts of one body go back to back)`);
    } else if (index !== a.next) {
      throw bad(`part ${index} of ${of} ${id} where part ${a.next} was due`);
    } else if (total !== a.total || sum !== a.sum) {
      throw bad(`part ${index} of ${of} ${id} changes its total or checksum`);
    }
    if (a.received + bytes.length > a.total)
      throw bad(`${of} ${id} sends more than the ${a.total} bytes it declared`);
    // Copied: ws may hand out views of a buffer it reuses.
    this.#pieces.push(Uint8Array.prototype.slice.call(bytes));
    a.received += bytes.length;
    a.next++;
    if (a.received < a.total) return undefined;
    const body = Buffer.concat(this.#pieces, a.total);
    this.#open = undefined;
    this.#pieces = [];
    if (crc32(body) !== a.sum) throw bad(`${of} ${id}: checksum mismatch over its ${a.total} bytes`);
    return { of, id, body };
  }
}
