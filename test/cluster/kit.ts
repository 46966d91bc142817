import { WebSocket } from 'ws';
import type { ClusterEvent } from '../../src/cluster/connection-state.ts';
import { encodeResponse, parseChallenge, verifyAccept } from '../../src/cluster/handshake.ts';
import { ClusterServer, type ClusterServerOptions } from '../../src/cluster/server.ts';

export const SECRET = Buffer.from('a test secret of enough bytes 0123456789');

export async function startServer(options: Partial<ClusterServerOptions> = {}) {
  const events: ClusterEvent[] = [];
  const server = await ClusterServer.listen({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    ...options,
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
  });
  return { server, events, url: `ws://127.0.0.1:${server.port}` };
}

/** A bare ws client (no sluice code on its side), for sending anything at all. */
export class RawPeer {
  readonly ws: WebSocket;
  readonly messages: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  #waiters: Array<() => void> = [];

  constructor(url: string) {
    // No maxPayload of its own: it must be able to send (and receive) anything.
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer) => {
      this.messages.push(data);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.opened = new Promise((resolve) => this.ws.once('open', () => resolve()));
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** The n-th message received (1-based), waiting for it. */
  async message(n: number): Promise<Buffer> {
    while (this.messages.length < n) await new Promise<void>((r) => this.#waiters.push(r));
    return this.messages[n - 1]!;
  }

  send(data: Buffer | string): void {
    this.ws.send(data);
  }

  /** Performs the handshake by hand; returns the response it sent (to replay it). */
  async authenticate(key = SECRET, now = Date.now()): Promise<Buffer> {
    const serverNonce = parseChallenge(await this.message(1));
    const response = encodeResponse(key, serverNonce, now);
    this.send(response);
    verifyAccept(await this.message(2), key, serverNonce, response);
    return response;
  }
}

export async function rawPeer(url: string): Promise<RawPeer> {
  const peer = new RawPeer(url);
  await peer.opened;
  return peer;
}

/** Waits until `condition` holds, polling (the test's own timeout bounds it). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}
