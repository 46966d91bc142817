import { WebSocket } from 'ws';
import type { ConnectionState } from './connection-state.ts';
import { ClusterProtocolError, ClusterUnreachableError, REFUSALS as CODES } from './errors.ts';
import { MAX_PAYLOAD } from './frames.ts';
import { encodeResponse, parseChallenge, verifyAccept } from './handshake.ts';
import { type ConnectionOptions, PeerConnection } from './peer-connection.ts';
import { joinKey } from './secret.ts';
import { socketErrorRefusal } from './socket-errors.ts';

export type JoinOptions = ConnectionOptions & {
  /** The shared secret; without one the loopback key (only a loopback server accepts it). */
  secret?: Buffer;
  /** Fails the join if the handshake is not done in this time. Default 10 s. */
  timeoutMs?: number;
  /** The clock of the handshake timestamp (tests). */
  now?: () => number;
  /**
   * Sends with an all-zero WebSocket mask (node-to-node data links). Masking guards HTTP intermediaries
   * against bytes chosen by a browser's script (RFC 6455 §10.3); between two sluice nodes it only costs:
   * without the `bufferutil` addon ws masks every byte in JavaScript and copies the message to do it,
   * and the receiver unmasks every byte again. With a zero mask ws does neither (it sends the payload as
   * is and skips the unmask). Authentication is unchanged: it is the handshake's, not the mask's.
   */
  zeroMask?: boolean;
};

const zeroMask = (mask: Buffer) => mask.fill(0);

/**
 * The joining end (a node's, a launcher's): answers the server's challenge, checks that the server proved
 * the secret too, and resolves with the authenticated connection. Rejects with a ClusterProtocolError
 * (the server's refusal code when it sent one) or the socket's error.
 */
export function joinCluster(url: string, options: JoinOptions = {}): Promise<PeerConnection> {
  const key = joinKey(options.secret);
  const maxPayload = Math.min(options.maxPayload ?? MAX_PAYLOAD, MAX_PAYLOAD);
  const ws = new WebSocket(url, {
    maxPayload,
    perMessageDeflate: false,
    handshakeTimeout: options.timeoutMs ?? 10_000,
    ...(options.zeroMask ? { generateMask: zeroMask } : {}),
  });
  let state: ConnectionState = { state: 'awaiting-challenge' };
  return new Promise<PeerConnection>((resolve, reject) => {
    let peer: PeerConnection | undefined;
    const fail = (err: Error) => {
      clearTimeout(timer);
      if (state.state !== 'open') {
        state = { state: 'closed', code: 'SLUICE_CLUSTER_CLOSED', reason: err.message };
        ws.terminate();
        reject(err);
      }
    };
    const timer = setTimeout(
      () =>
        fail(
          new ClusterProtocolError('SLUICE_CLUSTER_HANDSHAKE_TIMEOUT', `no handshake with ${url} in time`),
        ),
      options.timeoutMs ?? 10_000,
    );
    ws.on('error', (err: Error & { code?: string }) => {
      if (peer) peer.refuse(socketErrorRefusal(err));
      // A socket that never opened: no server there (a system error code), said as such.
      else
        fail(
          state.state === 'awaiting-challenge' && err.code?.startsWith('E')
            ? new ClusterUnreachableError(url, err)
            : err,
        );
    });
    ws.on('close', (code, reason) => {
      const refusal = Object.entries(CODES).find(([, c]) => c === code)?.[0];
      fail(
        refusal
          ? new ClusterProtocolError(refusal as keyof typeof CODES, `refused by ${url}: ${reason.toString()}`)
          : new Error(`${url} closed the connection during the handshake (${code} ${reason.toString()})`),
      );
    });
    const onHandshake = (data: Buffer, isBinary: boolean) => {
      try {
        if (!isBinary)
          throw new ClusterProtocolError('SLUICE_CLUSTER_BAD_HANDSHAKE', 'text message from the server');
        if (state.state === 'awaiting-challenge') {
          const serverNonce = parseChallenge(data);
          const response = encodeResponse(key, serverNonce, (options.now ?? Date.now)());
          state = { state: 'awaiting-accept', serverNonce, response };
          ws.send(response);
          ws.once('message', onHandshake);
        } else if (state.state === 'awaiting-accept') {
          verifyAccept(data, key, state.serverNonce, state.response);
          state = { state: 'open' };
          clearTimeout(timer);
          peer = new PeerConnection(ws, url, { ...options, maxPayload });
          resolve(peer);
        }
      } catch (err) {
        fail(err as Error);
      }
    };
    ws.once('message', onHandshake);
  });
}
