/**
 * One run of the cluster-link bench, in a fresh process: `node --import tsx bench/cluster-link-run.ts
 * raw|sluice BATCHES`. Sends BATCHES batches of 1024 tuples from a client to a server on 127.0.0.1 in
 * this process and prints `{ "ms": …, "tuples": … }`. Both modes do the same work around the link: the
 * sender encodes each batch with cbor-x, the receiver decodes it and counts its tuples, and the receiver
 * grants credit (an ack per 32 batches, at most 256 in flight), so neither side buffers without bound.
 *
 * raw:    a bare `ws` connection: ws.send(batch bytes).
 * sluice: the cluster protocol: HMAC handshake, then each batch in a `data` frame (frames.ts), decoded with
 *         the limits (decode-limits.ts) and shape-checked, heartbeats running; acks are `data` frames too.
 */
import type { AddressInfo } from 'node:net';
import { Decoder, Encoder } from 'cbor-x';
import { WebSocket, WebSocketServer } from 'ws';
import { joinCluster } from '../src/cluster/client.ts';
import type { PeerConnection } from '../src/cluster/peer-connection.ts';
import { ClusterServer } from '../src/cluster/server.ts';

const BATCH = 1024;
const ACK_EVERY = 32;
const MAX_IN_FLIGHT = 256;
const SECRET = Buffer.from('bench secret, at least sixteen bytes');

const encoder = new Encoder({ useRecords: false, tagUint8Array: false } as ConstructorParameters<
  typeof Encoder
>[0]);
const decoder = new Decoder({ useRecords: false } as ConstructorParameters<typeof Decoder>[0]);

/** The same batches every run: [device, metric, value] triples, or (`numbers`) plain integers. */
function makeBatches(numbers = process.argv[4] === 'numbers'): Uint8Array[] {
  return Array.from({ length: 8 }, (_, b) =>
    encoder.encode(
      Array.from({ length: BATCH }, (_, i) =>
        numbers ? b * BATCH + i : [(b * BATCH + i) % 500, i % 4, (i * 37) % 1000],
      ),
    ),
  );
}

type Link = {
  send(bytes: Uint8Array): void;
  onBatch(handler: (bytes: Uint8Array) => void): void;
  ack(): void;
  onAck(handler: () => void): void;
  close(): Promise<void>;
};

async function rawLink(): Promise<Link> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    maxPayload: 1 << 20,
  });
  await new Promise((r) => wss.once('listening', r));
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
    perMessageDeflate: false,
  });
  await new Promise((r) => client.once('open', r));
  const server = await accepted;
  return {
    send: (bytes) => client.send(bytes),
    onBatch: (h) => server.on('message', (d: Buffer) => h(d)),
    ack: () => server.send(Buffer.of(1)),
    onAck: (h) => client.on('message', () => h()),
    async close() {
      client.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

async function sluiceLink(): Promise<Link> {
  let serverPeer: PeerConnection | undefined;
  const server = await ClusterServer.listen({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    onPeer: (p) => {
      serverPeer = p;
    },
  });
  const client = await joinCluster(`ws://127.0.0.1:${server.port}`, { secret: SECRET });
  while (serverPeer === undefined) await new Promise((r) => setTimeout(r, 1));
  const peer = serverPeer;
  let seq = 0;
  let acks = 0;
  const empty = new Uint8Array(0);
  return {
    send: (batch) => client.send({ t: 'data', stream: 'bench', seq: seq++, batch }),
    onBatch: (h) => peer.onFrame((f) => f.t === 'data' && h(f.batch)),
    ack: () => peer.send({ t: 'data', stream: 'ack', seq: acks++, batch: empty }),
    onAck: (h) => client.onFrame(() => h()),
    async close() {
      client.close();
      await server.close();
    },
  };
}

async function main(): Promise<void> {
  const [mode, count] = [process.argv[2], Number(process.argv[3] ?? 4000)];
  if (mode !== 'raw' && mode !== 'sluice') throw new Error('usage: cluster-link-run.ts raw|sluice BATCHES');
  const link = mode === 'raw' ? await rawLink() : await sluiceLink();
  const batches = makeBatches();
  let received = 0;
  let tuples = 0;
  let acked = 0;
  let sent = 0;
  const done = new Promise<void>((resolve) => {
    link.onBatch((bytes) => {
      tuples += (decoder.decode(bytes) as unknown[]).length;
      if (++received % ACK_EVERY === 0) link.ack();
      if (received === count) resolve();
    });
  });
  let wake: (() => void) | undefined;
  link.onAck(() => {
    acked += ACK_EVERY;
    wake?.();
  });
  const start = performance.now();
  while (sent < count) {
    if (sent - acked >= MAX_IN_FLIGHT) {
      await new Promise<void>((r) => {
        wake = r;
      });
      continue;
    }
    // Encoding is part of the work, as on a real link: re-encode a fresh batch each time.
    const source = decoder.decode(batches[sent % batches.length]!) as unknown[];
    link.send(encoder.encode(source));
    sent++;
    if (sent % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  await done;
  const ms = performance.now() - start;
  await link.close();
  process.stdout.write(`${JSON.stringify({ ms, tuples })}\n`);
}

await main();
