import { encode } from 'cbor-x';
import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { ClusterEvent } from '../../src/cluster/connection-state.ts';
import { ClusterNoSecretError, ClusterProtocolError } from '../../src/cluster/errors.ts';
import type { ClusterFrame } from '../../src/cluster/frames.ts';
import {
  encodeResponse,
  NONCE_BYTES,
  PROTOCOL_VERSION,
  parseChallenge,
} from '../../src/cluster/handshake.ts';
import { ManualTicker } from '../../src/cluster/heartbeat.ts';
import type { PeerConnection } from '../../src/cluster/peer-connection.ts';
import { ClusterServer } from '../../src/cluster/server.ts';
import { packPost, unpackPost } from '../../src/container/port-channel.ts';
import { DATA } from '../../src/engine/messages.ts';
import { rawPeer, SECRET, startServer, until } from './kit.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function server(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  closers.push(() => s.server.close());
  return s;
}

const refusals = (events: ClusterEvent[]) => events.flatMap((e) => (e.event === 'refused' ? [e.code] : []));

/** A good node joins, says who it is, and the server answers on the same connection. */
async function goodJoin(url: string, serverPeers: PeerConnection[]): Promise<void> {
  const before = serverPeers.length;
  const node = await joinCluster(url, { secret: SECRET });
  closers.push(() => node.close());
  const echoed = new Promise<ClusterFrame>((resolve) => node.onFrame(resolve));
  await until(() => serverPeers.length > before);
  const peer = serverPeers.at(-1)!;
  const joined = new Promise<ClusterFrame>((resolve) => peer.onFrame(resolve));
  node.send({ t: 'join', nodeId: 'node-1', build: 'sha256:abc', containers: 2 });
  expect(await joined).toEqual({ t: 'join', nodeId: 'node-1', build: 'sha256:abc', containers: 2 });
  peer.send({ t: 'data', stream: 'a->b', seq: 7, batch: new Uint8Array([1, 2, 3]) });
  expect(await echoed).toMatchObject({ t: 'data', stream: 'a->b', seq: 7 });
}

describe('cluster protocol over real WebSockets on 127.0.0.1', () => {
  it('authenticates a node with the shared secret and exchanges frames both ways', async () => {
    const peers: PeerConnection[] = [];
    const { url, events } = await server({ onPeer: (p) => peers.push(p) });
    await goodJoin(url, peers);
    expect(events[0]).toMatchObject({ event: 'open' });
    expect(refusals(events)).toEqual([]);
  });

  it('carries a packed post as the binary message itself, zero-masked, between CBOR frames, and refuses an oversized one at the sender', async () => {
    const peers: PeerConnection[] = [];
    const { url, events } = await server({ onPeer: (p) => peers.push(p) });
    const node = await joinCluster(url, { secret: SECRET, zeroMask: true });
    closers.push(() => node.close());
    await until(() => peers.length > 0);
    const got: ClusterFrame[] = [];
    peers[0]!.onFrame((f) => got.push(f));
    const batch = new Uint8Array(5000).map((_, i) => i % 251);
    const post = packPost([
      { k: DATA, w: 3, b: batch },
      { k: 2, w: 3 },
    ]);
    node.sendPost(post.slice(0));
    node.send({ t: 'credit', seq: 4 });
    await until(() => got.length === 2);
    expect(got[0]!.t).toBe('post');
    const bytes = (got[0] as { bytes: Uint8Array }).bytes;
    expect(Buffer.from(bytes).equals(Buffer.from(post))).toBe(true);
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    const [data, end] = unpackPost(copy.buffer);
    expect(data).toMatchObject({ k: DATA, w: 3 });
    expect(Buffer.from((data as { b: Uint8Array }).b).equals(Buffer.from(batch))).toBe(true);
    expect(end).toEqual({ k: 2, w: 3 });
    expect(got[1]).toEqual({ t: 'credit', seq: 4 });
    expect(() => node.sendPost(new ArrayBuffer((1 << 20) + 8))).toThrow(
      expect.objectContaining({ code: 'SLUICE_CLUSTER_FRAME_TOO_LARGE' }),
    );
    expect(refusals(events)).toEqual([]);
  });

  it('says plainly that nothing answers at a URL (a closed port, an unknown host)', async () => {
    // A port that was just free: nothing listens there.
    const probe = await startServer();
    const url = probe.url;
    await probe.server.close();
    await expect(joinCluster(url, { secret: SECRET })).rejects.toMatchObject({
      code: 'SLUICE_CLUSTER_UNREACHABLE',
      message: `cannot connect to ${url} (ECONNREFUSED)`,
    });
    await expect(joinCluster('ws://nohost.invalid:7400', { secret: SECRET })).rejects.toMatchObject({
      code: 'SLUICE_CLUSTER_UNREACHABLE',
    });
  });

  it('refuses a node with the wrong secret at the handshake, and says so to both sides', async () => {
    const peers: PeerConnection[] = [];
    const { url, events } = await server({ onPeer: (p) => peers.push(p) });
    const error = await joinCluster(url, { secret: Buffer.from('not the secret, but long enough') }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ClusterProtocolError);
    expect(error).toMatchObject({ code: 'SLUICE_CLUSTER_AUTH_FAILED' });
    expect(peers).toEqual([]);
    await until(() => refusals(events).length > 0);
    expect(refusals(events)).toEqual(['SLUICE_CLUSTER_AUTH_FAILED']);
    await goodJoin(url, peers);
  });

  it('refuses a replayed handshake: on a new connection (its server nonce differs) and under a repeated server nonce', async () => {
    const { url, events } = await server();
    const first = await rawPeer(url);
    const response = await first.authenticate();
    const replay = await rawPeer(url);
    await replay.message(1);
    replay.send(response);
    expect((await replay.closed).code).toBe(4001);

    const fixedNonce = Buffer.alloc(NONCE_BYTES, 7);
    const repeated = await server({ nonce: () => fixedNonce });
    const a = await rawPeer(repeated.url);
    const captured = await a.authenticate();
    const b = await rawPeer(repeated.url);
    await b.message(1);
    b.send(captured);
    expect(await b.closed).toMatchObject({ code: 4002 });
    expect(refusals(repeated.events)).toEqual(['SLUICE_CLUSTER_REPLAY']);
    expect(refusals(events)).toEqual(['SLUICE_CLUSTER_AUTH_FAILED']);
    for (const p of [first, a]) p.ws.close();
  });

  it('refuses a handshake whose timestamp is outside the window, and accepts one inside it', async () => {
    const now = 1_800_000_000_000;
    const { url, events } = await server({ now: () => now, timestampWindowMs: 30_000 });
    const stale = await joinCluster(url, { secret: SECRET, now: () => now - 30_001 }).catch((e) => e);
    expect(stale).toMatchObject({ code: 'SLUICE_CLUSTER_STALE_TIMESTAMP' });
    const future = await joinCluster(url, { secret: SECRET, now: () => now + 31_000 }).catch((e) => e);
    expect(future).toMatchObject({ code: 'SLUICE_CLUSTER_STALE_TIMESTAMP' });
    const ok = await joinCluster(url, { secret: SECRET, now: () => now - 29_000 });
    ok.close();
    expect(refusals(events)).toEqual(['SLUICE_CLUSTER_STALE_TIMESTAMP', 'SLUICE_CLUSTER_STALE_TIMESTAMP']);
  });

  it('refuses a peer speaking another protocol version, and a node refuses such a server', async () => {
    const { url, events } = await server();
    const peer = await rawPeer(url);
    const response = encodeResponse(SECRET, parseChallenge(await peer.message(1)), Date.now());
    response.writeUInt16BE(PROTOCOL_VERSION + 1, 4);
    peer.send(response);
    expect((await peer.closed).code).toBe(4004);
    expect(refusals(events)).toEqual(['SLUICE_CLUSTER_VERSION']);
    const challenge = Buffer.from(await (await rawPeer(url)).message(1));
    challenge.writeUInt16BE(PROTOCOL_VERSION + 1, 4);
    expect(() => parseChallenge(challenge)).toThrow(
      expect.objectContaining({ code: 'SLUICE_CLUSTER_VERSION' }),
    );
  });

  it('refuses unauthenticated garbage, text, a huge message, deep nesting, a CBOR tag and a decode bomb without decoding them, and keeps serving', async () => {
    const peers: PeerConnection[] = [];
    const { url, events } = await server({ onPeer: (p) => peers.push(p) });
    const nested = Buffer.concat([Buffer.alloc(200, 0x81), Buffer.from([0])]);
    const inputs: Array<[string, Buffer | string, number]> = [
      ['garbage', Buffer.from('GET / HTTP/1.1 \u0000\u00ff'), 4005],
      ['text', 'hello', 4005],
      ['huge', Buffer.alloc(2 << 20, 1), 1009],
      ['deep nesting', nested, 4005],
      ['tag', Buffer.from('d81ca0', 'hex'), 4005],
      ['bomb', Buffer.from('9affffffff', 'hex'), 4005],
    ];
    for (const [, input, code] of inputs) {
      const peer = await rawPeer(url);
      await peer.message(1);
      peer.send(input);
      expect((await peer.closed).code).toBe(code);
    }
    await until(() => refusals(events).length === inputs.length);
    expect(refusals(events)).toEqual([
      'SLUICE_CLUSTER_BAD_HANDSHAKE',
      'SLUICE_CLUSTER_BAD_HANDSHAKE',
      'SLUICE_CLUSTER_FRAME_TOO_LARGE',
      'SLUICE_CLUSTER_BAD_HANDSHAKE',
      'SLUICE_CLUSTER_BAD_HANDSHAKE',
      'SLUICE_CLUSTER_BAD_HANDSHAKE',
    ]);
    for (const e of events) if (e.event === 'refused') expect(e.reason).not.toBe('');
    await goodJoin(url, peers);
  });

  it('refuses, after authentication, oversized, deeply nested, tagged, bomb, text and ill-shaped frames, one connection each', async () => {
    const peers: PeerConnection[] = [];
    const { url, events } = await server({ onPeer: (p) => peers.push(p) });
    const cases: Array<[Buffer | string, string]> = [
      [Buffer.alloc((1 << 20) + 1, 0x40), 'SLUICE_CLUSTER_FRAME_TOO_LARGE'],
      [Buffer.concat([Buffer.alloc(200, 0x81), Buffer.from([0])]), 'SLUICE_CLUSTER_DECODE_LIMIT'],
      [Buffer.from('d81ca0', 'hex'), 'SLUICE_CLUSTER_BAD_FRAME'],
      [Buffer.from('d81b826373657461', 'hex'), 'SLUICE_CLUSTER_BAD_FRAME'],
      [Buffer.from('9affffffff', 'hex'), 'SLUICE_CLUSTER_DECODE_LIMIT'],
      ['{"t":"ping","seq":1}', 'SLUICE_CLUSTER_BAD_FRAME'],
      [encode({ t: 'ping' }), 'SLUICE_CLUSTER_BAD_FRAME'],
      [encode({ t: 'launch-missiles', seq: 1 }), 'SLUICE_CLUSTER_BAD_FRAME'],
      [encode([1, 2, 3]), 'SLUICE_CLUSTER_BAD_FRAME'],
    ];
    for (const [input, code] of cases) {
      const peer = await rawPeer(url);
      await peer.authenticate();
      const seen = events.length;
      peer.send(input);
      await peer.closed;
      await until(() => events.slice(seen).some((e) => e.event === 'refused'));
      expect(events.slice(seen).find((e) => e.event === 'refused')).toMatchObject({
        code,
        authenticated: true,
      });
    }
    await goodJoin(url, peers);
  });

  it('drops a handshake that never comes', async () => {
    const { url, events } = await server({ handshakeTimeoutMs: 50 });
    const silent = await rawPeer(url);
    expect((await silent.closed).code).toBe(4006);
    expect(refusals(events)).toEqual(['SLUICE_CLUSTER_HANDSHAKE_TIMEOUT']);
  });

  it('refuses to listen off loopback without a secret, before binding anything', async () => {
    const error = await ClusterServer.listen({ host: '0.0.0.0', port: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(ClusterNoSecretError);
    expect(error).toMatchObject({ code: 'SLUICE_CLUSTER_NO_SECRET' });
    // On loopback, no secret is allowed: both ends use the public loopback key.
    const peers: PeerConnection[] = [];
    const open = await ClusterServer.listen({ host: '127.0.0.1', port: 0, onPeer: (p) => peers.push(p) });
    closers.push(() => open.close());
    const node = await joinCluster(`ws://127.0.0.1:${open.port}`);
    closers.push(() => node.close());
    await until(() => peers.length === 1);
    const withSecret = await joinCluster(`ws://127.0.0.1:${open.port}`, { secret: SECRET }).catch((e) => e);
    expect(withSecret).toMatchObject({ code: 'SLUICE_CLUSTER_AUTH_FAILED' });
  });
});

describe('heartbeats over a real connection, on an injected ticker', () => {
  it('declares a silent peer dead at the fourth tick after it joined (three missed), and closes it', async () => {
    const ticker = new ManualTicker();
    const peers: PeerConnection[] = [];
    const { url, events } = await server({ ticker, onPeer: (p) => peers.push(p) });
    const silent = await rawPeer(url); // answers nothing after its handshake
    await silent.authenticate();
    await until(() => peers.length === 1);
    for (let tick = 1; tick <= 3; tick++) {
      ticker.tick();
      expect(peers[0]!.state.state).toBe('open');
    }
    ticker.tick();
    expect(peers[0]!.state).toMatchObject({ state: 'closed', code: 'SLUICE_CLUSTER_PEER_DEAD' });
    await silent.closed;
    expect(
      events.filter((e) => e.event === 'missed-heartbeat').map((e) => (e as { missed: number }).missed),
    ).toEqual([1, 2, 3]);
    expect(ticker.active).toBe(0);
  });

  it('keeps a peer that answers its pings alive for as many ticks as it answers', async () => {
    const serverTicker = new ManualTicker();
    const peers: PeerConnection[] = [];
    const { url } = await server({ ticker: serverTicker, onPeer: (p) => peers.push(p) });
    const node = await joinCluster(url, { secret: SECRET, ticker: new ManualTicker() });
    closers.push(() => node.close());
    await until(() => peers.length === 1);
    const peer = peers[0]!;
    for (let tick = 0; tick < 10; tick++) {
      const received = peer.received;
      serverTicker.tick();
      await until(() => peer.received > received); // the node's pong
    }
    expect(peer.state.state).toBe('open');
  });
});
