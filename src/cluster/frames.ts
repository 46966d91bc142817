import { Encoder } from 'cbor-x';
import { type DecodeLimits, decodeLimited } from './decode-limits.ts';
import { ClusterProtocolError } from './errors.ts';

/**
 * The frames of an authenticated cluster connection: one CBOR map per WebSocket binary message, with its
 * type in `t`. Shapes are checked field by field after the limited decode: a frame with a missing, extra
 * or mistyped field is refused, so the layers above only ever see these types.
 *
 * Application data travels as opaque bytes (`data.batch`, the transport's own batch encoding), so the
 * limited decode walks over a batch in O(1) and the data path decodes it with its own codec.
 */
export type ClusterFrame =
  | { t: 'ping'; seq: number }
  | { t: 'pong'; seq: number }
  /** A node introduces itself: its id, the hash of its application build, its container slots. */
  | { t: 'join'; nodeId: string; build: string; containers: number }
  | { t: 'data'; stream: string; seq: number; batch: Uint8Array }
  | { t: 'bye'; reason: string }
  /** A request (`body`: CBOR of the call, decoded with the same limits) and its reply, matched by `id`. */
  | { t: 'call'; id: number; body: Uint8Array }
  | { t: 'reply'; id: number; body: Uint8Array }
  /** A one-way control message (events, notices). */
  | { t: 'note'; body: Uint8Array }
  /**
   * One piece of a `call` or `reply` body too large for one frame (`of` says which; parts.ts): pieces of
   * one body go back to back, `index` 0, 1, 2…, each repeating the body's `total` length and CRC-32 `sum`.
   */
  | { t: 'part'; id: number; of: string; index: number; total: number; sum: number; bytes: Uint8Array }
  /** The first frame of a node-to-node data link: which stream it carries (`app/epoch/channel`). */
  | { t: 'link'; stream: string }
  /** On a data link: credits granted back by the consumer (the data goes in `post` messages). */
  | { t: 'credit'; seq: number }
  /**
   * On a data link: a packed post (port-channel.ts, packPost), sent as the WebSocket message itself, not
   * CBOR (see PeerConnection.sendPost); the receiver hands its bytes on unread.
   */
  | { t: 'post'; bytes: Uint8Array };

export type FrameType = ClusterFrame['t'];

/** The largest message either end accepts (ws `maxPayload`); the ceiling is 1 MiB. */
export const MAX_PAYLOAD = 1 << 20;
const MAX_TEXT = 256;

// tagUint8Array false: a Uint8Array is a plain byte string (tag 64 would be refused by the limited decode).
const encoder = new Encoder({ useRecords: false, tagUint8Array: false } as ConstructorParameters<
  typeof Encoder
>[0]);

export function encodeFrame(frame: ClusterFrame, maxPayload = MAX_PAYLOAD): Buffer {
  const bytes = encoder.encode(frame);
  if (bytes.length > maxPayload) {
    throw new ClusterProtocolError(
      'SLUICE_CLUSTER_FRAME_TOO_LARGE',
      `a ${frame.t} frame of ${bytes.length} bytes exceeds the ${maxPayload}-byte limit: send smaller batches`,
    );
  }
  return bytes;
}

type Field = 'seq' | 'count' | 'text' | 'bytes';
const SHAPES: { [T in FrameType]: Record<string, Field> } = {
  ping: { seq: 'seq' },
  pong: { seq: 'seq' },
  join: { nodeId: 'text', build: 'text', containers: 'count' },
  data: { stream: 'text', seq: 'seq', batch: 'bytes' },
  bye: { reason: 'text' },
  call: { id: 'seq', body: 'bytes' },
  reply: { id: 'seq', body: 'bytes' },
  note: { body: 'bytes' },
  part: { id: 'seq', of: 'text', index: 'seq', total: 'seq', sum: 'seq', bytes: 'bytes' },
  link: { stream: 'text' },
  credit: { seq: 'seq' },
  post: { bytes: 'bytes' },
};

/**
 * The first byte of a raw post message: a packed post starts with its message count as a little-endian
 * float64, whose low byte is 0 for any count below 2^44; a CBOR frame starts with a map (0xa0–0xbf).
 */
export const POST_FIRST_BYTE = 0;
/** A post is at least its count (8 bytes); a shorter message starting with 0 is decoded as CBOR (refused). */
export const POST_MIN_BYTES = 8;

function fieldOk(kind: Field, v: unknown): boolean {
  switch (kind) {
    case 'seq':
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case 'count':
      return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 1024;
    case 'text':
      return typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT;
    case 'bytes':
      return v instanceof Uint8Array;
  }
}

/** Decodes one message with the limits and checks its shape; ClusterProtocolError if anything is off. */
export function decodeFrame(bytes: Uint8Array, limits?: DecodeLimits): ClusterFrame {
  const value = decodeLimited(bytes, limits);
  const bad = (why: string) => new ClusterProtocolError('SLUICE_CLUSTER_BAD_FRAME', `bad frame: ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw bad('not a map');
  }
  const record = value as Record<string, unknown>;
  const type = record.t;
  if (typeof type !== 'string' || !Object.hasOwn(SHAPES, type)) {
    // Not JSON.stringify(type): a peer's bigint would make it throw a TypeError (found by the fuzz test).
    const shown = typeof type === 'string' ? JSON.stringify(type).slice(0, 60) : `of type ${typeof type}`;
    throw bad(`unknown type ${shown}`);
  }
  const shape = SHAPES[type as FrameType];
  const keys = Object.keys(record);
  if (keys.length !== Object.keys(shape).length + 1)
    throw bad(`${type} has fields ${keys.join(',')}`.slice(0, 200));
  for (const [name, kind] of Object.entries(shape)) {
    if (!fieldOk(kind, record[name])) throw bad(`${type}.${name} is missing or not a valid ${kind}`);
  }
  return record as ClusterFrame;
}
