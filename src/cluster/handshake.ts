import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ClusterProtocolError } from './errors.ts';

/**
 * Challenge–response authentication, in fixed-layout binary messages that are checked byte by byte: no
 * decoder touches anything a peer sends before it has proven it knows the secret.
 *
 *   server                                              client
 *     | --- CHALLENGE  "SLCH" ver:u16 serverNonce:32 ----> |
 *     | <-- RESPONSE   "SLRS" ver:u16 ts:u64 clientNonce:32 mac:32
 *     |        mac = HMAC-SHA256(key, "sluice/client" ver serverNonce clientNonce ts)
 *     | --- ACCEPT     "SLOK" mac:32 ----------------------> |
 *     |        mac = HMAC-SHA256(key, "sluice/server" ver serverNonce clientNonce ts)
 *
 * The secret never crosses the wire. A response is bound to its connection's fresh server nonce, so a
 * captured one replayed on another connection fails the MAC; on top of that (a repeated server nonce, a
 * broken RNG) the server refuses a client nonce it has seen within the timestamp window (NonceCache) and a
 * timestamp outside the window. ACCEPT proves the server knows the key too (no impostor supervisor).
 * Order of checks: layout, version, MAC (constant time), timestamp, nonce: only a peer holding the key
 * learns whether its timestamp or nonce was the problem, and only MAC-valid nonces fill the cache.
 */
export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;
export const CHALLENGE_BYTES = 4 + 2 + NONCE_BYTES;
export const RESPONSE_BYTES = 4 + 2 + 8 + NONCE_BYTES + MAC_BYTES;
export const ACCEPT_BYTES = 4 + MAC_BYTES;
const CHALLENGE_MAGIC = Buffer.from('SLCH');
const RESPONSE_MAGIC = Buffer.from('SLRS');
const ACCEPT_MAGIC = Buffer.from('SLOK');

export type Response = { version: number; timestamp: number; clientNonce: Buffer; mac: Buffer };

function mac(
  key: Buffer,
  label: string,
  serverNonce: Buffer,
  clientNonce: Buffer,
  timestamp: number,
): Buffer {
  const fixed = Buffer.alloc(2 + 8);
  fixed.writeUInt16BE(PROTOCOL_VERSION, 0);
  fixed.writeBigUInt64BE(BigInt(timestamp), 2);
  return createHmac('sha256', key)
    .update(label)
    .update(fixed)
    .update(serverNonce)
    .update(clientNonce)
    .digest();
}

const refuse = (code: ConstructorParameters<typeof ClusterProtocolError>[0], msg: string) =>
  new ClusterProtocolError(code, msg);

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function encodeChallenge(serverNonce: Buffer): Buffer {
  const out = Buffer.alloc(CHALLENGE_BYTES);
  CHALLENGE_MAGIC.copy(out, 0);
  out.writeUInt16BE(PROTOCOL_VERSION, 4);
  serverNonce.copy(out, 6);
  return out;
}

/** Client side: the server nonce of a challenge; refuses anything but a well-formed same-version one. */
export function parseChallenge(bytes: Buffer): Buffer {
  if (bytes.length !== CHALLENGE_BYTES || !bytes.subarray(0, 4).equals(CHALLENGE_MAGIC)) {
    throw refuse('SLUICE_CLUSTER_BAD_HANDSHAKE', `the server's first message is not a sluice challenge`);
  }
  const version = bytes.readUInt16BE(4);
  if (version !== PROTOCOL_VERSION) {
    throw refuse(
      'SLUICE_CLUSTER_VERSION',
      `the server speaks protocol ${version}, this node ${PROTOCOL_VERSION}`,
    );
  }
  return Buffer.from(bytes.subarray(6));
}

export function encodeResponse(
  key: Buffer,
  serverNonce: Buffer,
  timestamp: number,
  clientNonce = newNonce(),
): Buffer {
  const out = Buffer.alloc(RESPONSE_BYTES);
  RESPONSE_MAGIC.copy(out, 0);
  out.writeUInt16BE(PROTOCOL_VERSION, 4);
  out.writeBigUInt64BE(BigInt(timestamp), 6);
  clientNonce.copy(out, 14);
  mac(key, 'sluice/client', serverNonce, clientNonce, timestamp).copy(out, 14 + NONCE_BYTES);
  return out;
}

export type VerifyOptions = {
  key: Buffer;
  serverNonce: Buffer;
  now: number;
  windowMs: number;
  nonces: NonceCache;
};

/** Server side: checks a response (see the order above); returns the ACCEPT message to send. */
export function verifyResponse(bytes: Buffer, o: VerifyOptions): Buffer {
  if (bytes.length !== RESPONSE_BYTES || !bytes.subarray(0, 4).equals(RESPONSE_MAGIC)) {
    throw refuse('SLUICE_CLUSTER_BAD_HANDSHAKE', `not a sluice handshake response (${bytes.length} bytes)`);
  }
  const version = bytes.readUInt16BE(4);
  if (version !== PROTOCOL_VERSION) {
    throw refuse(
      'SLUICE_CLUSTER_VERSION',
      `peer speaks protocol ${version}, this server ${PROTOCOL_VERSION}`,
    );
  }
  const ts = bytes.readBigUInt64BE(6);
  const timestamp = ts > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ts);
  const clientNonce = Buffer.from(bytes.subarray(14, 14 + NONCE_BYTES));
  const expected = mac(o.key, 'sluice/client', o.serverNonce, clientNonce, timestamp);
  if (!timingSafeEqual(expected, bytes.subarray(14 + NONCE_BYTES))) {
    throw refuse(
      'SLUICE_CLUSTER_AUTH_FAILED',
      'the handshake MAC does not match: wrong secret, or a replayed handshake',
    );
  }
  if (Math.abs(o.now - timestamp) > o.windowMs) {
    throw refuse(
      'SLUICE_CLUSTER_STALE_TIMESTAMP',
      `handshake timestamp ${timestamp} is more than ${o.windowMs} ms from now (${o.now}): check the clocks`,
    );
  }
  if (!o.nonces.add(clientNonce, o.now)) {
    throw refuse('SLUICE_CLUSTER_REPLAY', 'this handshake was already used (client nonce seen before)');
  }
  const out = Buffer.alloc(ACCEPT_BYTES);
  ACCEPT_MAGIC.copy(out, 0);
  mac(o.key, 'sluice/server', o.serverNonce, clientNonce, timestamp).copy(out, 4);
  return out;
}

/** Client side: checks that the server's ACCEPT proves it holds the key. */
export function verifyAccept(bytes: Buffer, key: Buffer, serverNonce: Buffer, response: Buffer): void {
  const timestamp = Number(response.readBigUInt64BE(6));
  const clientNonce = response.subarray(14, 14 + NONCE_BYTES);
  const ok =
    bytes.length === ACCEPT_BYTES &&
    bytes.subarray(0, 4).equals(ACCEPT_MAGIC) &&
    timingSafeEqual(bytes.subarray(4), mac(key, 'sluice/server', serverNonce, clientNonce, timestamp));
  if (!ok) throw refuse('SLUICE_CLUSTER_SERVER_AUTH_FAILED', 'the server did not prove it knows the secret');
}

/**
 * Client nonces accepted within the timestamp window. An entry older than the window can go: a response
 * carrying it would now fail the timestamp check anyway. Bounded: past `max` entries the oldest are
 * dropped early (only authenticated peers add entries, so reaching it means a peer with the key misbehaves).
 */
export class NonceCache {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max = 100_000,
  ) {}

  get size(): number {
    return this.#seen.size;
  }

  /** false if the nonce was already seen within the window. */
  add(nonce: Buffer, now: number): boolean {
    for (const [key, at] of this.#seen) {
      if (at >= now - 2 * this.windowMs && this.#seen.size < this.max) break;
      this.#seen.delete(key); // insertion order is time order: the oldest come first
    }
    const key = nonce.toString('base64');
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, now);
    return true;
  }
}
