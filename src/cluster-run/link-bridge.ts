import type { MessagePort } from 'node:worker_threads';
import type { ClusterFrame } from '../cluster/frames.ts';
import type { PeerConnection } from '../cluster/peer-connection.ts';
import { type PortPost, packPost, unpackPost } from '../container/port-channel.ts';
import { DATA } from '../engine/messages.ts';

/*
 * A stream between containers on different nodes: the producer's container posts on a MessagePort as
 * to any other container (PortChannelOut), and its node's main thread relays each message onto an
 * authenticated WebSocket to the consumer's node, whose main thread posts it into the consumer
 * container's port (PortChannelIn). Credits travel back the same way, so the producer still may have
 * only `capacity` messages unread end to end: the socket's buffers are bounded by the same credit.
 *
 *   producer node                                                consumer node
 *   worker ─port─▶ main: bridgeOut ══ ws (data/mark frames) ══▶ main: bridgeIn ─port─▶ worker
 *                               ◀══════ credit frames ══════════
 */

/** Producer side: the port's far end is the producer container's PortChannelOut. */
export function bridgeOut(port: MessagePort, peer: PeerConnection): void {
  // PortChannelOut packs the messages of a turn into one buffer (packPost): one frame each.
  port.on('message', (posted: PortPost) => {
    if (!(posted instanceof ArrayBuffer)) return;
    for (const m of unpackPost(posted)) {
      if (m.k === DATA) peer.send({ t: 'data', stream: 's', seq: m.w, batch: m.b });
      else peer.send({ t: 'mark', kind: m.k, seq: m.w });
    }
  });
  peer.onFrame((f) => {
    if (f.t === 'credit') port.postMessage({ credit: f.seq });
  });
  void peer.closed.then(() => port.close());
}

/** Consumer side: frames that arrived before the bridge (`early`) go first, in order. */
export function bridgeIn(port: MessagePort, peer: PeerConnection, early: readonly ClusterFrame[]): void {
  const deliver = (f: ClusterFrame) => {
    // PortChannelIn takes messages packed (packPost): one per frame.
    const post = (buffer: ArrayBuffer) => port.postMessage(buffer, [buffer]);
    if (f.t === 'data') post(packPost([{ k: DATA, w: f.seq, b: f.batch }]));
    else if (f.t === 'mark' && (f.kind === 0 || f.kind === 2)) post(packPost([{ k: f.kind, w: f.seq }]));
  };
  for (const f of early) deliver(f);
  peer.onFrame(deliver);
  port.on('message', (m: PortPost) => {
    if (!(m instanceof ArrayBuffer)) peer.send({ t: 'credit', seq: m.credit });
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

  /** Pass as the data server's onPeer. */
  admit(peer: PeerConnection): void {
    let entry: { peer: PeerConnection; early: ClusterFrame[] } | undefined;
    peer.onFrame((f) => {
      if (entry !== undefined) {
        entry.early.push(f);
        return;
      }
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
}
