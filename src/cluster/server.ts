import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ClusterEvent } from './connection-state.ts';
import { ClusterProtocolError } from './errors.ts';
import { MAX_PAYLOAD } from './frames.ts';
import { encodeChallenge, NonceCache, newNonce, verifyResponse } from './handshake.ts';
import { type ConnectionOptions, closeReason, PeerConnection } from './peer-connection.ts';
import { listenKey } from './secret.ts';
import { socketErrorRefusal } from './socket-errors.ts';

export type ClusterServerOptions = ConnectionOptions & {
  host: string;
  /** 0 for a free port (tests). */
  port: number;
  /** The shared secret; without one only a loopback host is allowed (ClusterNoSecretError). */
  secret?: Buffer;
  /** A handshake not completed in this time is dropped. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** How far a handshake's timestamp may be from the server's clock. Default 30 s. */
  timestampWindowMs?: number;
  /** Handshakes in progress at once; more are turned away (1013) until some finish. Default 64. */
  maxPendingHandshakes?: number;
  /** The clock of timestamps (tests). */
  now?: () => number;
  /** Server nonces (tests replaying a handshake under a repeated nonce). */
  nonce?: () => Buffer;
  /** Called for each authenticated peer. */
  onPeer?: (peer: PeerConnection) => void;
};

/**
 * The listening end of the cluster protocol (the supervisor's). Each connection gets a challenge; its
 * first message must be the exact-size response, checked without decoding anything (handshake.ts); only
 * then does it become a PeerConnection whose frames are decoded with limits. Every refusal is reported as
 * a 'refused' event with its code and closes that connection only: the server keeps serving the others.
 */
export class ClusterServer {
  readonly #wss: WebSocketServer;
  readonly #key: Buffer;
  readonly #nonces: NonceCache;
  readonly #o: ClusterServerOptions;
  readonly #onEvent: (event: ClusterEvent) => void;
  readonly peers = new Set<PeerConnection>();
  #pending = 0;

  private constructor(wss: WebSocketServer, options: ClusterServerOptions, key: Buffer) {
    this.#wss = wss;
    this.#o = options;
    this.#key = key;
    this.#nonces = new NonceCache(options.timestampWindowMs ?? 30_000);
    this.#onEvent = options.onEvent ?? (() => {});
    wss.on('connection', (ws, request) => this.#accept(ws, request));
  }

  /** Checks the secret policy before binding anything, then listens. */
  static async listen(options: ClusterServerOptions): Promise<ClusterServer> {
    const key = listenKey(options.host, options.secret);
    const maxPayload = Math.min(options.maxPayload ?? MAX_PAYLOAD, MAX_PAYLOAD);
    const wss = new WebSocketServer({
      host: options.host,
      port: options.port,
      maxPayload,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new ClusterServer(wss, { ...options, maxPayload }, key);
  }

  get port(): number {
    return (this.#wss.address() as AddressInfo).port;
  }

  #accept(ws: WebSocket, request: IncomingMessage): void {
    const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    let peer: PeerConnection | undefined;
    // ws emits 'error' for an over-maxPayload or malformed WebSocket frame and then closes the socket:
    // without a listener that error would crash the process.
    ws.on('error', (err) => {
      const refusal = socketErrorRefusal(err);
      if (peer) peer.refuse(refusal);
      else this.#refused(remote, refusal, false);
    });
    if (this.#pending >= (this.#o.maxPendingHandshakes ?? 64)) {
      ws.close(1013, 'too many handshakes in progress, try again');
      return;
    }
    this.#pending++;
    let settled = false;
    const settle = () => {
      if (!settled) this.#pending--;
      settled = true;
      clearTimeout(timer);
    };
    const refuse = (err: ClusterProtocolError) => {
      settle();
      this.#refused(remote, err, false);
      ws.close(err.closeCode, closeReason(err.message));
    };
    const timer = setTimeout(
      () =>
        refuse(new ClusterProtocolError('SLUICE_CLUSTER_HANDSHAKE_TIMEOUT', 'no handshake response in time')),
      this.#o.handshakeTimeoutMs ?? 5000,
    );
    ws.once('close', settle);
    const serverNonce = (this.#o.nonce ?? newNonce)();
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      if (settled) return;
      try {
        if (!isBinary)
          throw new ClusterProtocolError(
            'SLUICE_CLUSTER_BAD_HANDSHAKE',
            'text message before authentication',
          );
        const accept = verifyResponse(data, {
          key: this.#key,
          serverNonce,
          now: (this.#o.now ?? Date.now)(),
          windowMs: this.#o.timestampWindowMs ?? 30_000,
          nonces: this.#nonces,
        });
        settle();
        ws.send(accept);
        peer = new PeerConnection(ws, remote, this.#o);
        this.peers.add(peer);
        void peer.closed.then(() => this.peers.delete(peer!));
        this.#onEvent({ event: 'open', remote });
        this.#o.onPeer?.(peer);
      } catch (err) {
        refuse(
          err instanceof ClusterProtocolError
            ? err
            : new ClusterProtocolError('SLUICE_CLUSTER_BAD_HANDSHAKE', String(err), { cause: err }),
        );
      }
    });
    ws.send(encodeChallenge(serverNonce));
  }

  #refused(remote: string, err: ClusterProtocolError, authenticated: boolean): void {
    this.#onEvent({ event: 'refused', remote, code: err.code, reason: err.message, authenticated });
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    for (const peer of this.peers) peer.close('server closing');
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
