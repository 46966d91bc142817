import type { MessagePort } from 'node:worker_threads';
import type { ClusterProtocolError } from '../cluster/errors.ts';
import type { ClusterFrame } from '../cluster/frames.ts';
import { DEFAULT_PART_LIMITS, MAX_MESSAGE, PartAssembler, splitBody } from '../cluster/parts.ts';
import type { PeerConnection } from '../cluster/peer-connection.ts';
import {
  type PortMessage,
  type PortPost,
  PostBuffers,
  packPost,
  postLength,
  unpackPost,
} from '../container/port-channel.ts';
import { DATA } from '../engine/messages.ts';

/*
 * A stream between containers on different nodes: the producer's container posts on a MessagePort as
 * to any other container (PortChannelOut), and its node's main thread relays each message onto an
 * authenticated WebSocket to the consumer's node, whose main thread posts it into the consumer
 * container's port (PortChannelIn). A post is a packed buffer of markers and encoded batches
 * (port-channel.ts, packPost): it crosses as one WebSocket message, its bytes as they are (no CBOR frame
 * around them, PeerConnection.sendPost), unpacked only by the consumer.
 * Credits travel back the same way, so the producer still may have only `capacity` messages unread end to end: the socket's buffers are bounded by the same credit.
 *
 *   producer node                                                consumer node
 *   worker ─port─▶ main: bridgeOut ══ ws (post messages) ══▶ main: bridgeIn ─port─▶ worker
 *                               ◀══════ credit frames ══════════
 */

/** A packed post larger than this is split before it goes into a frame (frames are ≤ 1 MiB). */
const MAX_POST_BYTES = 960 * 1024;

/**
 * A single message larger than a frame (a batch holding a tuple of several MiB) crosses as `part` frames
 * (parts.ts), reassembled and checked by the consumer's node, up to MAX_MESSAGE. A larger one cannot
 * cross: the link is closed with the reason (the stream's containers fail and restart, and the run
 * ends at the restart intensity with that reason), rather than an exception that ends the node.
 */
function sendInParts(peer: PeerConnection, id: number, post: ArrayBuffer): void {
  const bytes = new Uint8Array(post, 0, postLength(post));
  if (bytes.byteLength > MAX_MESSAGE) {
    const reason = `a batch of ${bytes.byteLength} bytes on this stream exceeds the ${MAX_MESSAGE}-byte limit of a node-to-node message: emit smaller tuples`;
    process.stderr.write(`sluice: ${reason}\n`);
    peer.close(reason);
    return;
  }
  for (const part of splitBody('post', id, bytes)) peer.send(part);
}

/** Producer side: the port's far end is the producer container's PortChannelOut. */
export function bridgeOut(port: MessagePort, peer: PeerConnection): void {
  const send = (buffer: ArrayBuffer) => peer.sendPost(new Uint8Array(buffer, 0, postLength(buffer)));
  // Once ws has written a post, its buffer goes back to the producer to be packed into again (as a
  // consumer container does, PostBuffers): no fresh buffer per post on the producer's thread.
  let open = true;
  let partsSent = 0;
  const giveBack = (buffer: ArrayBuffer) => () => {
    if (open) port.postMessage({ credit: 0, buffers: [buffer] }, [buffer]);
  };
  port.on('message', (m: PortPost) => {
    if (!(m instanceof ArrayBuffer)) return;
    const length = postLength(m);
    if (length <= MAX_POST_BYTES) return peer.sendPost(new Uint8Array(m, 0, length), giveBack(m));
    // Repacked in groups that fit (a single batch over the limit fails the frame's encode: too large).
    let group: PortMessage[] = [];
    let size = 8;
    const flush = () => {
      const packed = packPost(group);
      if (size > MAX_POST_BYTES) sendInParts(peer, ++partsSent, packed);
      else send(packed);
      group = [];
      size = 8;
    };
    for (const msg of unpackPost(m)) {
      const bytes = 24 + (msg.k === DATA ? msg.b.byteLength + 8 : 0);
      if (group.length > 0 && size + bytes > MAX_POST_BYTES) flush();
      group.push(msg);
      size += bytes;
    }
    if (group.length > 0) flush();
  });
  peer.onFrame((f) => {
    if (f.t === 'credit') port.postMessage({ credit: f.seq });
  });
  void peer.closed.then(() => {
    open = false;
    port.close();
  });
}

/**
 * Messages the consumer's node may hold beyond the consumer's own credit window. Across a socket a credit
 * takes two event loops and two ports longer to come back than between threads; with only the
 * consumer's window in flight the stream would wait on that round trip. So the consumer's node credits
 * the producer as soon as a post arrives, as long as its consumer has at most this many messages unread:
 * end to end the producer still has a bounded number unread (its capacity plus this).
 */
export const LINK_EXTRA_CREDIT = 64;

/** The consumer's node grants credit in batches of up to this many messages (see bridgeIn). */
export const LINK_CREDIT_EVERY = 32;

/** Consumer side: frames that arrived before the bridge (`early`) go first, in order. */
export function bridgeIn(
  port: MessagePort,
  peer: PeerConnection,
  early: readonly ClusterFrame[],
  extra = LINK_EXTRA_CREDIT,
): void {
  let count = 0;
  let granted = 0;
  let read = 0;
  // Credits go back in batches of at least `every` messages, not one frame per post and per read: a
  // credit frame costs a socket write here and a decode plus a port post on the producer's node (the
  // profile's largest item on both relaying main threads). Safe from deadlock: a post holds at most a
  // quarter of the producer's credit (PortChannelOut's postEvery), so `every` — twice the largest post
  // seen, at most LINK_CREDIT_EVERY — is at most half of it: the producer always has room left to send
  // the messages that complete a batch, and what is withheld once it has sent them all is granted.
  let largest = 1;
  // Post buffers the consumer read to the end come back with its credits: a post copied out of a socket
  // read goes into one of them rather than a fresh (zeroed) ArrayBuffer each time, which the consumer's
  // thread would otherwise have to collect (a sixth of its time in a profile of a fast stream).
  const buffers = new PostBuffers();
  const grant = () => {
    const g = Math.min(count, read + extra) - granted;
    if (g > 0 && g >= Math.min(LINK_CREDIT_EVERY, 2 * largest)) {
      granted += g;
      peer.send({ t: 'credit', seq: g });
    }
  };
  const parts = new PartAssembler(DEFAULT_PART_LIMITS, ['post']);
  const deliver = (frame: ClusterFrame) => {
    let f = frame;
    if (f.t === 'part') {
      let whole: ReturnType<PartAssembler['accept']>;
      try {
        whole = parts.accept(f);
      } catch (e) {
        peer.refuse(e as ClusterProtocolError);
        return;
      }
      if (whole === undefined) return;
      f = { t: 'post', bytes: whole.body };
    }
    if (f.t !== 'post') return;
    // Moved to the consumer's container as is when the message owns its whole ArrayBuffer (ws
    // assembled it from several socket reads into a buffer of its own; nothing else views it), else
    // copied into one (a view into a socket read, at any offset; the packed layout needs 8-byte alignment).
    const received = f.bytes;
    let buffer: ArrayBuffer;
    if (received.byteOffset === 0 && received.byteLength === received.buffer.byteLength)
      buffer = received.buffer as ArrayBuffer;
    else {
      buffer = buffers.take(received.byteLength);
      new Uint8Array(buffer).set(received);
    }
    // The post's message count is its first float64 (packPost's layout).
    const n = new Float64Array(buffer, 0, 1)[0]!;
    count += n;
    if (n > largest) largest = n;
    port.postMessage(buffer, [buffer]);
    grant();
  };
  for (const f of early) deliver(f);
  peer.onFrame(deliver);
  port.on('message', (m: PortPost) => {
    if (m instanceof ArrayBuffer) return;
    if (m.buffers !== undefined) buffers.give(m.buffers);
    read += m.credit;
    grant();
  });
  void peer.closed.then(() => port.close());
}

/**
 * The consumer node's side of link setup: a producer's node dials in and names its stream in a first
 * `link` frame; the consumer's deploy claims the stream by name. Either may come first.
 */
export class LinkRegistry {
  readonly #arrived = new Map<string, { peer: PeerConnection; early: ClusterFrame[] }>();
  readonly #waiting = new Map<string, (l: { peer: PeerConnection; early: ClusterFrame[] }) => void>();

  /**
   * Pass as the data server's onPeer. `other` may take a connection whose first frame is not a `link`
   * (a node's window-log replicas: window-log-replicas.ts) by returning true.
   */
  admit(peer: PeerConnection, other?: (peer: PeerConnection, first: ClusterFrame) => boolean): void {
    let entry: { peer: PeerConnection; early: ClusterFrame[] } | undefined;
    peer.onFrame((f) => {
      if (entry !== undefined) {
        entry.early.push(f);
        return;
      }
      if (f.t !== 'link' && other?.(peer, f)) return;
      if (f.t !== 'link') {
        peer.close(`a ${f.t} frame before link`);
        return;
      }
      entry = { peer, early: [] };
      const waiter = this.#waiting.get(f.stream);
      if (waiter) {
        this.#waiting.delete(f.stream);
        waiter(entry);
      } else this.#arrived.set(f.stream, entry);
    });
  }

  /** The link carrying `stream`, when its producer's node has dialled in. */
  claim(stream: string): Promise<{ peer: PeerConnection; early: ClusterFrame[] }> {
    const arrived = this.#arrived.get(stream);
    if (arrived) {
      this.#arrived.delete(stream);
      return Promise.resolve(arrived);
    }
    return new Promise((resolve) => this.#waiting.set(stream, resolve));
  }

  /** Forgets the streams of an application's older epochs (their links are closed by their producers). */
  drop(prefix: string): void {
    for (const [k, v] of this.#arrived) {
      if (k.startsWith(prefix)) {
        v.peer.close('stale link');
        this.#arrived.delete(k);
      }
    }
    for (const k of this.#waiting.keys()) if (k.startsWith(prefix)) this.#waiting.delete(k);
  }

  /** Forgets one stream (its consumer was replaced): a link that already arrived for it is closed. */
  forget(stream: string): void {
    this.#arrived.get(stream)?.peer.close('stale link');
    this.#arrived.delete(stream);
    this.#waiting.delete(stream);
  }
}
