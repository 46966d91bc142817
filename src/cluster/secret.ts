import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ClusterNoSecretError, ClusterSecretError } from './errors.ts';

/** Shorter secrets are guessable offline from one captured handshake (HMAC is fast to brute-force). */
export const MIN_SECRET_BYTES = 16;

/*
 * With no secret the cluster only listens on loopback, and both ends key the handshake with this public
 * constant: the protocol (and its refusals of garbage) stays the same, but it only proves the peer speaks
 * sluice, which on loopback is all a single-machine setup needs.
 */
const LOOPBACK_KEY = Buffer.from('sluice-cluster-loopback-without-secret');

export type SecretSource = { secretFile?: string; env?: NodeJS.ProcessEnv };

/** The cluster secret from `--secret-file` (trailing newline dropped) or else SLUICE_SECRET; undefined if neither. */
export function loadSecret(source: SecretSource = {}): Buffer | undefined {
  let secret: Buffer | undefined;
  let from: string;
  if (source.secretFile !== undefined) {
    from = `--secret-file ${source.secretFile}`;
    try {
      secret = Buffer.from(readFileSync(source.secretFile, 'utf8').replace(/\r?\n$/, ''));
    } catch (err) {
      throw new ClusterSecretError(
        `Cannot read the cluster secret from ${source.secretFile}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  } else {
    from = 'SLUICE_SECRET';
    const value = (source.env ?? process.env).SLUICE_SECRET;
    if (value === undefined || value === '') return undefined;
    secret = Buffer.from(value);
  }
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ClusterSecretError(
      `The cluster secret from ${from} is ${secret.length} bytes; use at least ${MIN_SECRET_BYTES} random ` +
        'bytes (for example `openssl rand -hex 32`).',
    );
  }
  return secret;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::ffff:127.0.0.1';
}

/**
 * The key the handshake uses on `host`: the secret, or without one the loopback key, which only a
 * loopback address may use (ClusterNoSecretError otherwise). Every command that listens calls this.
 */
export function listenKey(host: string, secret: Buffer | undefined): Buffer {
  if (secret !== undefined) return secret;
  if (!isLoopbackHost(host)) throw new ClusterNoSecretError(host);
  return LOOPBACK_KEY;
}

/** The key a joining node uses: the secret, or the loopback key (accepted only by a loopback server). */
export function joinKey(secret: Buffer | undefined): Buffer {
  return secret ?? LOOPBACK_KEY;
}
