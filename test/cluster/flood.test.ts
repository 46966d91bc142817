import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { PeerConnection } from '../../src/cluster/peer-connection.ts';
import { type RawPeer, rawPeer, SECRET, startServer, until } from './kit.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('a cluster server under a flood of bad peers', () => {
  it('refuses 200 peers sending bombs and garbage, costs little memory, and still admits a good node', async () => {
    const { server, url, events } = await startServer();
    closers.push(() => server.close());
    // A response of the right layout and version with a made-up MAC: the only kind that reaches the HMAC.
    const forged = Buffer.concat([Buffer.from('SLRS'), Buffer.from([0, 1]), Buffer.alloc(72, 0xff)]);
    const inputs = [Buffer.from('9affffffff', 'hex'), Buffer.from('bad'), forged, 'text'];
    const before = process.memoryUsage().heapUsed;
    for (let round = 0; round < 10; round++) {
      const peers = await Promise.all(Array.from({ length: 20 }, () => rawPeer(url)));
      await Promise.all(
        peers.map(async (peer, i) => {
          await peer.message(1);
          peer.send(inputs[i % inputs.length]!);
          await peer.closed;
        }),
      );
    }
    await until(() => events.filter((e) => e.event === 'refused').length === 200);
    expect(new Set(events.flatMap((e) => (e.event === 'refused' ? [e.code] : [])))).toEqual(
      new Set(['SLUICE_CLUSTER_BAD_HANDSHAKE', 'SLUICE_CLUSTER_AUTH_FAILED']),
    );
    // Nothing was decoded or kept per refused peer: the heap barely moves (GC timing aside).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 << 20);
    const node = await joinCluster(url, { secret: SECRET });
    closers.push(() => node.close());
    expect(node.state.state).toBe('open');
  });

  it('turns away handshakes beyond maxPendingHandshakes (1013) while others are in progress, then admits again', async () => {
    const peers: PeerConnection[] = [];
    const { server, url } = await startServer({ maxPendingHandshakes: 4, onPeer: (p) => peers.push(p) });
    closers.push(() => server.close());
    const idle: RawPeer[] = [];
    for (let i = 0; i < 4; i++) {
      const peer = await rawPeer(url);
      await peer.message(1); // challenged, never answers
      idle.push(peer);
    }
    const turnedAway = await rawPeer(url);
    expect(await turnedAway.closed).toMatchObject({ code: 1013 });
    for (const peer of idle) peer.ws.close();
    await Promise.all(idle.map((p) => p.closed));
    const node = await joinCluster(url, { secret: SECRET });
    closers.push(() => node.close());
    await until(() => peers.length === 1);
  });
});
