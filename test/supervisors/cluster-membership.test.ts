import { encode } from 'cbor-x';
import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { ClusterFrame } from '../../src/cluster/frames.ts';
import { ManualTicker } from '../../src/cluster/heartbeat.ts';
import type { PeerConnection } from '../../src/cluster/peer-connection.ts';
import { ClusterMembership, type MembershipEvent } from '../../supervisors/cluster-membership.ts';
import { rawPeer, SECRET, startServer, until } from '../cluster/kit.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function cluster(options: { ticker?: ManualTicker; joinTimeoutMs?: number } = {}) {
  const events: MembershipEvent[] = [];
  const frames: Array<[string, ClusterFrame]> = [];
  const membership = new ClusterMembership({
    build: 'sha256:good',
    joinTimeoutMs: options.joinTimeoutMs,
    onEvent: (e) => events.push(e),
    onFrame: (id, f) => frames.push([id, f]),
  });
  const {
    server,
    url,
    events: protocolEvents,
  } = await startServer({
    ticker: options.ticker,
    onPeer: (p) => membership.admit(p),
  });
  closers.push(() => server.close());
  return { membership, events, frames, url, protocolEvents };
}

async function node(url: string, nodeId: string, build = 'sha256:good'): Promise<PeerConnection> {
  const peer = await joinCluster(url, { secret: SECRET, ticker: new ManualTicker() });
  closers.push(() => peer.close());
  peer.send({ t: 'join', nodeId, build, containers: 2 });
  return peer;
}

describe('ClusterMembership (the supervisor’s view of its nodes, real sockets)', () => {
  it('admits nodes of the same build, and hands their later frames on with their id', async () => {
    const { membership, events, frames, url } = await cluster();
    const a = await node(url, 'node-a');
    await node(url, 'node-b');
    await until(() => membership.nodes.size === 2);
    expect([...membership.nodes.keys()].sort()).toEqual(['node-a', 'node-b']);
    a.send({ t: 'data', stream: 's', seq: 1, batch: new Uint8Array([5]) });
    await until(() => frames.length === 1);
    expect(frames[0]![0]).toBe('node-a');
    expect(events.filter((e) => e.event === 'node-joined')).toHaveLength(2);
    a.close();
    await until(() => membership.nodes.size === 1);
    expect(events.at(-1)).toEqual({ event: 'node-left', nodeId: 'node-a', closeCode: 1000 });
  });

  it('refuses a node on another build, a second node with a live id, and a frame before join', async () => {
    const { membership, events, url } = await cluster();
    const other = await node(url, 'node-x', 'sha256:other');
    expect(await other.closed).toBe(4012);
    await node(url, 'node-a');
    await until(() => membership.nodes.size === 1);
    const twin = await node(url, 'node-a');
    expect(await twin.closed).toBe(4013);
    const early = await joinCluster(url, { secret: SECRET, ticker: new ManualTicker() });
    early.send({ t: 'data', stream: 's', seq: 0, batch: new Uint8Array() });
    expect(await early.closed).toBe(4014);
    expect(events.flatMap((e) => (e.event === 'node-refused' ? [e.code] : []))).toEqual([
      'SLUICE_CLUSTER_BUILD_MISMATCH',
      'SLUICE_CLUSTER_DUPLICATE_NODE',
      'SLUICE_CLUSTER_NOT_JOINED',
    ]);
    expect([...membership.nodes.keys()]).toEqual(['node-a']);
  });

  it('refuses a connection that never joins', async () => {
    const { events, url } = await cluster({ joinTimeoutMs: 50 });
    const silent = await joinCluster(url, { secret: SECRET, ticker: new ManualTicker() });
    expect(await silent.closed).toBe(4014);
    expect(events).toMatchObject([{ event: 'node-refused', code: 'SLUICE_CLUSTER_NOT_JOINED' }]);
  });

  it('drops a node that falls silent after 3 missed heartbeats, and lets it rejoin under its id', async () => {
    const ticker = new ManualTicker();
    const { membership, events, url, protocolEvents } = await cluster({ ticker });
    const frozen = await rawPeer(url); // joins, then answers nothing (a stopped or cut-off process)
    await frozen.authenticate();
    frozen.send(encode({ t: 'join', nodeId: 'node-a', build: 'sha256:good', containers: 1 }));
    await until(() => membership.nodes.size === 1);
    for (let i = 0; i < 4; i++) ticker.tick();
    await until(() => membership.nodes.size === 0);
    expect(protocolEvents).toContainEqual(
      expect.objectContaining({ event: 'refused', code: 'SLUICE_CLUSTER_PEER_DEAD' }),
    );
    expect(events.at(-1)).toMatchObject({ event: 'node-left', nodeId: 'node-a' });
    await node(url, 'node-a');
    await until(() => membership.nodes.size === 1);
  });
});
