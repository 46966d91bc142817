import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { ClusterServer } from '../../src/cluster/server.ts';
import { adoptablePlacement } from '../../src/cluster-run/adoption.ts';
import { HeldCalls } from '../../src/cluster-run/held-calls.ts';
import { Rpc } from '../../src/cluster-run/rpc.ts';
import type { PhysicalPlan } from '../../src/plan/physical-plan.ts';
import { SECRET, startServer, until } from './kit.ts';

/*
 * A node's store calls across a supervisor restart, over real authenticated connections on loopback: a
 * "supervisor" server records the calls it is sent; the node side loses it, connects again, and only
 * the adoption of the application releases what was held, in order.
 */
describe('store calls held while the supervisor is away', () => {
  let server: ClusterServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function supervisor() {
    const received: unknown[] = [];
    const peers: Rpc[] = [];
    const started = await startServer({
      onPeer: (peer) => {
        const rpc = new Rpc(peer).attach();
        rpc.onCall((_m, a) => {
          received.push(a[0]);
          return `ok ${String(a[0])}`;
        });
        peers.push(rpc);
      },
    });
    server = started.server;
    const connect = async () => new Rpc(await joinCluster(started.url, { secret: SECRET })).attach();
    return { received, peers, connect };
  }

  it('sends at once while adopted, holds while away, sends what it held in order once adopted again', async () => {
    const s = await supervisor();
    const calls = new HeldCalls(1 << 20, () => {});
    const store = calls.channel('app');
    calls.connected(await s.connect());
    calls.open('app');
    expect(await store.call('store', 'first')).toBe('ok first');

    s.peers[0]!.peer.close('supervisor killed');
    await until(() => !calls.live('app'));
    calls.connected(undefined);
    const held = [store.call('store', 'second'), store.call('store', 'third', new Uint8Array(100))];
    await until(() => calls.held.calls === 2);
    expect(calls.held.bytes).toBe(64 + 164);

    // Rejoined, not adopted yet: still held.
    calls.connected(await s.connect());
    const fourth = store.call('store', 'fourth');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.received).toEqual(['first']);
    calls.open('app');
    expect(await Promise.all([...held, fourth])).toEqual(['ok second', 'ok third', 'ok fourth']);
    expect(s.received).toEqual(['first', 'second', 'third', 'fourth']);
    expect(calls.held).toEqual({ calls: 0, bytes: 0 });
  });

  it('rejects what it held when the containers stop, and stops an application past its bound', async () => {
    const calls = new HeldCalls(200, (app) => overflowed.push(app));
    const overflowed: string[] = [];
    calls.connected(undefined);
    calls.open('a');
    calls.open('b');
    const a = calls.channel('a').call('store', 'x');
    calls.drop('a', 'grace over');
    await expect(a).rejects.toMatchObject({ code: 'SLUICE_CLUSTER_HELD_DROPPED' });
    await expect(calls.channel('a').call('store', 'y')).rejects.toMatchObject({
      code: 'SLUICE_CLUSTER_HELD_DROPPED',
    });
    const b = calls.channel('b');
    void b.call('store', new Uint8Array(100)).catch(() => {});
    await expect(b.call('store', new Uint8Array(100))).rejects.toMatchObject({
      code: 'SLUICE_CLUSTER_HELD_OVERFLOW',
    });
    expect(overflowed).toEqual(['b']);
  });
});

describe('whether running containers can be adopted', () => {
  const plan = {
    actors: [
      { id: 'in', container: 0 },
      { id: 'sum', container: 1 },
      { id: 'out', container: 1 },
    ],
  } as unknown as PhysicalPlan;
  const state = (c: number, actors: string[], epoch = 7) => ({
    c,
    epoch,
    actors,
    done: 3,
    tuples: 0,
    finished: false,
  });

  it('places each container where it runs when every container is announced once at the epoch', () => {
    const where = adoptablePlacement(
      [
        { nodeId: 'n1', app: 'x', epoch: 7, containers: [state(1, ['sum', 'out'])] },
        { nodeId: 'n2', app: 'x', epoch: 7, containers: [state(0, ['in'], 5)] },
      ],
      plan,
      2,
      7,
    );
    expect(where).toEqual(
      new Map([
        [1, { node: 'n1', epoch: 7 }],
        [0, { node: 'n2', epoch: 5 }],
      ]),
    );
  });

  it('says why not when a container is missing, twice, planned otherwise, or of another epoch', () => {
    const n1 = { nodeId: 'n1', app: 'x', epoch: 7, containers: [state(0, ['in'])] };
    expect(adoptablePlacement([n1], plan, 2, 7)).toMatch(/no node announced container 1/);
    expect(adoptablePlacement([n1, { ...n1, nodeId: 'n2' }], plan, 2, 7)).toMatch(
      /container 0 runs on n1 and on n2/,
    );
    const other = { nodeId: 'n2', app: 'x', epoch: 7, containers: [state(1, ['sum'])] };
    expect(adoptablePlacement([n1, other], plan, 2, 7)).toMatch(/other actors than planned/);
    const stale = { nodeId: 'n2', app: 'x', epoch: 6, containers: [state(1, ['sum', 'out'], 6)] };
    expect(adoptablePlacement([n1, stale], plan, 2, 7)).toMatch(/no node announced container 1/);
  });
});
