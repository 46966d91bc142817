import type { WebSocket } from 'ws';
import type { ClusterEvent, ConnectionState } from './connection-state.ts';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './decode-limits.ts';
import { ClusterProtocolError } from './errors.ts';
import {
  type ClusterFrame,
  decodeFrame,
  encodeFrame,
  MAX_PAYLOAD,
  POST_FIRST_BYTE,
  POST_MIN_BYTES,
} from './frames.ts';
import { HEARTBEAT_MS, Heartbeat, MAX_MISSED, realTicker, type Ticker } from './heartbeat.ts';

/** Options shared by both ends of an authenticated connection. */
export type ConnectionOptions = {
  maxPayload?: number;
  limits?: DecodeLimits;
  ticker?: Ticker;
  heartbeatMs?: number;
  maxMissed?: number;
  onEvent?: (event: ClusterEvent) => void;
};

/** Refusal reasons go into the close frame, which holds at most 123 bytes. */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

/**
 * An authenticated cluster connection (either end): decodes each binary message with the limits, checks
 * its shape, answers pings, feeds the heartbeat, and hands every other frame to `onFrame`. A message it
 * refuses closes the connection with the refusal's close code and a logged reason.
 */
export class PeerConnection {
  #state: ConnectionState = { state: 'open' };
  #onFrame: (frame: ClusterFrame) => void = () => {};
  #received = 0;
  readonly #heartbeat: Heartbeat;
  readonly #maxPayload: number;
  readonly #limits: DecodeLimits;
  readonly #onEvent: (event: ClusterEvent) => void;
  /** Resolves with the close code once the socket is closed, whoever closed it. */
  readonly closed: Promise<number>;

  /** Why the connection closed (the peer's close reason, or this end's), once it has. */
  get closedReason(): string | undefined {
    return this.#state.state === 'closed' ? this.#state.reason : undefined;
  }

  constructor(
    private readonly ws: WebSocket,
    readonly remote: string,
    options: ConnectionOptions = {},
  ) {
    this.#maxPayload = options.maxPayload ?? MAX_PAYLOAD;
    this.#limits = options.limits ?? DEFAULT_DECODE_LIMITS;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#heartbeat = new Heartbeat(
      {
        sendPing: (seq) => this.send({ t: 'ping', seq }),
        missed: (missed) => this.#onEvent({ event: 'missed-heartbeat', remote, missed }),
        declareDead: (missed) =>
          this.refuse(
            new ClusterProtocolError(
              'SLUICE_CLUSTER_PEER_DEAD',
              `no frame from ${remote} in ${missed} heartbeats`,
            ),
            true,
          ),
      },
      options.ticker ?? realTicker,
      options.heartbeatMs ?? HEARTBEAT_MS,
      options.maxMissed ?? MAX_MISSED,
    );
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.#heartbeat.stop();
        if (this.#state.state !== 'closed') {
          this.#state = { state: 'closed', code: 'SLUICE_CLUSTER_CLOSED', reason: reason.toString() };
        }
        this.#onEvent({ event: 'closed', remote, code, reason: reason.toString() });
        resolve(code);
      });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#receive(data, isBinary));
    this.#heartbeat.start();
  }

  /** Messages received from the peer, pings and pongs included (tests wait on it). */
  get received(): number {
    return this.#received;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  onFrame(handler: (frame: ClusterFrame) => void): void {
    this.#onFrame = handler;
  }

  send(frame: ClusterFrame): void {
    if (this.#state.state !== 'open') return;
    this.ws.send(encodeFrame(frame, this.#maxPayload));
  }

  /**
   * Sends a packed post (port-channel.ts) as the binary message itself: no CBOR frame around it, so no
   * copy into an encoder's buffer here and no decode there (with a zero mask, ws writes these very bytes).
   * Still bounded by maxPayload, which the receiving ws enforces too. `written` is called once ws is done
   * with the bytes (written to the socket, or failed): the caller may then reuse them.
   */
  sendPost(post: ArrayBuffer | Uint8Array, written?: () => void): void {
    if (this.#state.state !== 'open') return;
    if (post.byteLength > this.#maxPayload) {
      throw new ClusterProtocolError(
        'SLUICE_CLUSTER_FRAME_TOO_LARGE',
        `a post of ${post.byteLength} bytes exceeds the ${this.#maxPayload}-byte limit: split it`,
      );
    }
    const first = post instanceof Uint8Array ? post[0] : new Uint8Array(post, 0, 1)[0];
    if (post.byteLength < POST_MIN_BYTES || first !== POST_FIRST_BYTE)
      throw new Error('internal: not a packed post');
    if (written === undefined) this.ws.send(post);
    else this.ws.send(post, () => written());
  }

  /** Closes normally (1000), telling the peer why. */
  close(reason = 'bye'): void {
    if (this.#state.state !== 'open') return;
    this.#state = { state: 'closed', code: 'SLUICE_CLUSTER_CLOSED', reason };
    this.#heartbeat.stop();
    this.ws.close(1000, closeReason(reason));
  }

  /** Logs the refusal and closes with its code; `terminate` drops a peer that would not answer a close. */
  refuse(err: ClusterProtocolError, terminate = false): void {
    if (this.#state.state === 'closed') return;
    this.#state = { state: 'closed', code: err.code, reason: err.message };
    this.#heartbeat.stop();
    this.#onEvent({
      event: 'refused',
      remote: this.remote,
      code: err.code,
      reason: err.message,
      authenticated: true,
    });
    if (terminate) this.ws.terminate();
    else this.ws.close(err.closeCode, closeReason(err.message));
  }

  #receive(data: Buffer, isBinary: boolean): void {
    if (this.#state.state !== 'open') return;
    this.#heartbeat.heard();
    this.#received++;
    if (isBinary && data.length >= POST_MIN_BYTES && data[0] === POST_FIRST_BYTE) {
      this.#onFrame({ t: 'post', bytes: data });
      return;
    }
    let frame: ClusterFrame;
    try {
      if (!isBinary)
        throw new ClusterProtocolError('SLUICE_CLUSTER_BAD_FRAME', 'text message (frames are binary CBOR)');
      frame = decodeFrame(data, this.#limits);
    } catch (err) {
      // Anything thrown while decoding a peer's bytes closes that connection; it must never escape into
      // ws's event handler, where it would crash the process.
      this.refuse(
        err instanceof ClusterProtocolError
          ? err
          : new ClusterProtocolError('SLUICE_CLUSTER_BAD_FRAME', `undecodable frame: ${String(err)}`, {
              cause: err,
            }),
      );
      return;
    }
    if (frame.t === 'ping') this.send({ t: 'pong', seq: frame.seq });
    else if (frame.t !== 'pong') this.#onFrame(frame);
  }
}
