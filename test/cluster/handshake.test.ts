import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encodeChallenge,
  encodeResponse,
  NonceCache,
  newNonce,
  parseChallenge,
  verifyAccept,
  verifyResponse,
} from '../../src/cluster/handshake.ts';
import { isLoopbackHost, listenKey, loadSecret } from '../../src/cluster/secret.ts';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

describe('handshake messages', () => {
  const verify = (response: Buffer, serverNonce: Buffer, nonces = new NonceCache(30_000), now = 1_000_000) =>
    verifyResponse(response, { key: KEY, serverNonce, now, windowMs: 30_000, nonces });

  it('accepts a response to its own challenge, and the client accepts the server’s proof', () => {
    const serverNonce = parseChallenge(encodeChallenge(newNonce()));
    const response = encodeResponse(KEY, serverNonce, 1_000_000);
    const accept = verify(response, serverNonce);
    expect(() => verifyAccept(accept, KEY, serverNonce, response)).not.toThrow();
    expect(() =>
      verifyAccept(accept, Buffer.from('another key of 32 bytes.........'), serverNonce, response),
    ).toThrow(expect.objectContaining({ code: 'SLUICE_CLUSTER_SERVER_AUTH_FAILED' }));
  });

  it('never puts the secret on the wire', () => {
    const serverNonce = newNonce();
    const response = encodeResponse(KEY, serverNonce, 1_000_000);
    const wire = Buffer.concat([encodeChallenge(serverNonce), response, verify(response, serverNonce)]);
    expect(wire.includes(KEY)).toBe(false);
    expect(wire.includes(KEY.subarray(0, 8))).toBe(false);
  });

  it('refuses a response with one bit flipped anywhere in its nonce, timestamp or MAC', () => {
    const serverNonce = newNonce();
    const response = encodeResponse(KEY, serverNonce, 1_000_000);
    for (let byte = 6; byte < response.length; byte++) {
      const flipped = Buffer.from(response);
      flipped[byte]! ^= 1;
      expect(() => verify(flipped, serverNonce)).toThrow(
        expect.objectContaining({ code: 'SLUICE_CLUSTER_AUTH_FAILED' }),
      );
    }
  });

  it('refuses a client nonce seen before within the window, and forgets nonces older than it', () => {
    const nonces = new NonceCache(30_000);
    const serverNonce = newNonce();
    const response = encodeResponse(KEY, serverNonce, 1_000_000);
    verify(response, serverNonce, nonces, 1_000_000);
    expect(() => verify(response, serverNonce, nonces, 1_000_001)).toThrow(
      expect.objectContaining({ code: 'SLUICE_CLUSTER_REPLAY' }),
    );
    // Much later the old entry is pruned, and the old timestamp is refused as stale instead.
    const later = 1_000_000 + 70_000;
    verify(encodeResponse(KEY, serverNonce, later), serverNonce, nonces, later);
    expect(nonces.size).toBe(1);
    expect(() => verify(response, serverNonce, nonces, later)).toThrow(
      expect.objectContaining({ code: 'SLUICE_CLUSTER_STALE_TIMESTAMP' }),
    );
  });

  it('keeps the nonce cache bounded', () => {
    const nonces = new NonceCache(30_000, 100);
    for (let i = 0; i < 1000; i++) expect(nonces.add(newNonce(), 1)).toBe(true);
    expect(nonces.size).toBeLessThanOrEqual(100);
  });

  it('refuses responses of the wrong size or magic without computing anything', () => {
    const serverNonce = newNonce();
    const good = encodeResponse(KEY, serverNonce, 1_000_000);
    for (const bad of [
      Buffer.alloc(0),
      good.subarray(1),
      Buffer.concat([good, Buffer.alloc(1)]),
      Buffer.from(good).fill(0, 0, 4),
    ]) {
      expect(() => verify(bad, serverNonce)).toThrow(
        expect.objectContaining({ code: 'SLUICE_CLUSTER_BAD_HANDSHAKE' }),
      );
    }
  });
});

describe('cluster secret', () => {
  it('reads SLUICE_SECRET or --secret-file (which wins), refusing short secrets', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-secret-'));
    const file = path.join(dir, 'secret');
    fs.writeFileSync(file, 'from-the-file-0123456789\n');
    expect(loadSecret({ env: {} })).toBeUndefined();
    expect(loadSecret({ env: { SLUICE_SECRET: 'from-the-env-0123456789' } })?.toString()).toBe(
      'from-the-env-0123456789',
    );
    expect(loadSecret({ env: { SLUICE_SECRET: 'x'.repeat(20) }, secretFile: file })?.toString()).toBe(
      'from-the-file-0123456789',
    );
    expect(() => loadSecret({ env: { SLUICE_SECRET: 'short' } })).toThrow(
      expect.objectContaining({ code: 'SLUICE_CLUSTER_SECRET' }),
    );
    expect(() => loadSecret({ secretFile: path.join(dir, 'missing') })).toThrow(
      expect.objectContaining({ code: 'SLUICE_CLUSTER_SECRET' }),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lets only loopback addresses listen without a secret', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) {
      expect(isLoopbackHost(host)).toBe(true);
      expect(listenKey(host, undefined).length).toBeGreaterThan(0);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) {
      expect(() => listenKey(host, undefined)).toThrow(
        expect.objectContaining({ code: 'SLUICE_CLUSTER_NO_SECRET' }),
      );
      expect(listenKey(host, KEY)).toBe(KEY);
    }
  });
});
