import { crc32 } from 'node:zlib';
import { Encoder } from 'cbor-x';
import type { StoreRecord } from './errors.ts';
import { SnapshotCorruptError, StateNotEncodableError } from './errors.ts';
// Registers the DurableMap tag with cbor-x, so every frame encodes and decodes DurableMaps as such.
import './durable-map-codec.ts';

/*
 * Standard CBOR without cbor-x's record extension, so every encoding is self-contained (no structure
 * table shared between encoder and decoder, which a relaunched process would not have). Plain objects
 * are CBOR maps decoded as plain objects; JS Maps carry tag 259 and decode as Maps; Sets use tag 258,
 * Dates tag 1, bigints are integers (tags 2/3 past 64 bits).
 *
 * Not structuredClone: it keeps shared references, but cbor-x writes reference ids as 16 bits (past
 * 65,536 shared objects they silently point at the wrong object) and cannot rebuild a Map or Set that
 * contains itself. So state must be a tree: an object reachable twice is stored twice and comes back as
 * two copies, and a cycle fails to encode. -0 comes back as 0.
 *
 * copyBuffers: a decoded Uint8Array must not be a view into the stored bytes (the memory store keeps
 * those, and a restored actor may mutate its state).
 */
const options = { useRecords: false, mapsAsObjects: true, useTag259ForMaps: true, copyBuffers: true };
const cbor = new Encoder(options); // useTag259ForMaps is missing from cbor-x's Options type

export function encodeState(value: unknown): Uint8Array {
  return cbor.encode(value);
}

export function decodeState(bytes: Uint8Array): unknown {
  return cbor.decode(bytes);
}

/*
 * A stored frame: a format byte, the CRC-32 of the payload (big-endian), then the CBOR payload.
 *
 *   0         1                 5
 *   +---------+-----------------+------------------ - -
 *   | version | crc32(payload)  | payload (CBOR)
 *   +---------+-----------------+------------------ - -
 *
 * CRC-32 (zlib.crc32, Node >= 20.15) runs at several GB/s, about 3x SHA-1; it catches every single-bit
 * flip and every burst up to 32 bits, and a truncation. LevelDB does not verify block checksums on reads
 * by default, so this check is ours.
 */
export const FRAME_VERSION = 1;
export const FRAME_HEADER = 5;
const HEADER = FRAME_HEADER;

/**
 * A frame the caller sealed itself (frame-builder.ts: a large incremental checkpoint assembled over
 * several scheduler turns); saveSnapshot stores it as is instead of encoding the value.
 */
export class SealedFrame {
  constructor(readonly bytes: Uint8Array) {}
}

/** Encodes a value into a checksummed frame; throws StateNotEncodableError naming the record. */
export function sealState(value: unknown, record: StoreRecord): Uint8Array {
  let payload: Uint8Array;
  try {
    payload = cbor.encode(value);
  } catch (err) {
    throw new StateNotEncodableError(record, { cause: err });
  }
  const frame = new Uint8Array(HEADER + payload.length);
  frame[0] = FRAME_VERSION;
  new DataView(frame.buffer).setUint32(1, crc32(payload));
  frame.set(payload, HEADER);
  return frame;
}

/** Checks and decodes a frame made by sealState; throws SnapshotCorruptError naming the record. */
export function unsealState(frame: Uint8Array, record: StoreRecord): unknown {
  if (frame.length <= HEADER) throw new SnapshotCorruptError(record, `only ${frame.length} bytes`);
  if (frame[0] !== FRAME_VERSION) {
    throw new SnapshotCorruptError(record, `unknown frame version ${frame[0]}`);
  }
  const payload = frame.subarray(HEADER);
  const expected = new DataView(frame.buffer, frame.byteOffset, HEADER).getUint32(1);
  if (crc32(payload) !== expected) throw new SnapshotCorruptError(record, 'checksum mismatch');
  try {
    return cbor.decode(payload);
  } catch (err) {
    throw new SnapshotCorruptError(record, 'checksum matches but the CBOR does not decode', { cause: err });
  }
}
