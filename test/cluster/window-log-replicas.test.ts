import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { ClusterServer } from '../../src/cluster/server.ts';
import { writeHeldLogs } from '../../src/cluster-run/adoption.ts';
import { HeldCalls } from '../../src/cluster-run/held-calls.ts';
import { LinkRegistry } from '../../src/cluster-run/link-bridge.ts';
import { Rpc } from '../../src/cluster-run/rpc.ts';
import {
  doneWithoutSupervisor,
  type HeldLogEntry,
  HeldWindowLogs,
  ReplicaLinks,
  ReplicaRefusedError,
  replicaArgs,
} from '../../src/cluster-run/window-log-replicas.ts';
import { MemorySnapshotStore } from '../../src/index.ts';
import { SECRET, startServer, until } from './kit.ts';

/*
 * Window-log entries made durable by two node processes while no supervisor holds the application: the
 * entries a node holds, a replica sent over a real authenticated connection to another node's data port
 * (sharing it with data links), a held call answered once its entry is durable elsewhere, and the
 * restarted supervisor writing what the nodes held.
 */
describe('window-log entries held by two nodes while the supervisor is down', () => {
  const servers: ClusterServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  const entry = (epoch: number, actor: string, window: number, n = window): HeldLogEntry => [
    epoch,
    actor,
    window,
    { counts: [n] },
  ];

  /** A node's data port: data links by LinkRegistry, replica connections to `hold` (refusing epoch 0). */
  async function dataPort(held: HeldWindowLogs) {
    const links = new LinkRegistry();
    const { server, url } = await startServer({
      onPeer: (peer) =>
        links.admit(peer, (p, first) => {
          if (first.t !== 'call') return false;
          const rpc = new Rpc(p).attach();
          rpc.onCall((_m, a) => {
            const { app, entry: e } = replicaArgs(a);
            if (e[0] === 0) throw new ReplicaRefusedError(`${app} epoch 0 is not hosted here`);
            held.add(app, e);
            return null;
          });
          rpc.frame(first);
          return true;
        }),
    });
    servers.push(server);
    return { url, links };
  }

  const dial = async (url: string) => new Rpc(await joinCluster(url, { secret: SECRET })).attach();

  it('keeps the newest epoch of each entry, in order, until a commit covers it or a newer epoch is deployed', () => {
    const held = new HeldWindowLogs();
    for (const e of [entry(5, 'b', 2), entry(5, 'a', 3), entry(5, 'a', 1), entry(4, 'a', 1, 99)])
      held.add('app', e);
    expect(held.entries('app')).toEqual([entry(5, 'a', 1), entry(5, 'a', 3), entry(5, 'b', 2)]);
    held.committed('app', 2);
    expect(held.entries('app')).toEqual([entry(5, 'a', 3)]);
    held.add('app', entry(6, 'a', 4));
    held.deployed('app', 6);
    expect(held.entries('app')).toEqual([entry(6, 'a', 4)]);
    expect(held.count('other')).toBe(0);
  });

  it('replicates to the first peer that holds it at that epoch, past one that refuses and one that is gone', async () => {
    const refusing = new HeldWindowLogs();
    const holding = new HeldWindowLogs();
    const a = await dataPort(refusing);
    const b = await dataPort(holding);
    const replicas = new ReplicaLinks(dial);
    const gone = 'ws://127.0.0.1:1';
    expect(await replicas.replicate([gone, a.url, b.url], 'app', entry(0, 'in', 7))).toBe(false);
    expect(await replicas.replicate([gone, a.url, b.url], 'app', entry(3, 'in', 7))).toBe(true);
    expect(refusing.entries('app')).toEqual([entry(3, 'in', 7)]);
    // The second peer is used only when the first refuses: the epoch-0 entry went nowhere.
    expect(holding.entries('app')).toEqual([]);
    // A data link still gets its stream on the same port.
    const link = await joinCluster(b.url, { secret: SECRET });
    link.send({ t: 'link', stream: 'app/3/0' });
    const claimed = await b.links.claim('app/3/0');
    expect(claimed.early).toEqual([]);
    link.close();
    replicas.close();
  });

  it('paces by the node own containers without a supervisor: bounded past its last done, stopped by held bytes, never backwards', () => {
    const o = { dones: [12, 9], appDone: 5, paced: 5, heldBytes: 0, heldLimit: 100, windowsWhileDown: 200 };
    expect(doneWithoutSupervisor(o)).toBe(9);
    expect(doneWithoutSupervisor({ ...o, windowsWhileDown: 3 })).toBe(8);
    expect(doneWithoutSupervisor({ ...o, paced: 9 })).toBeUndefined();
    expect(doneWithoutSupervisor({ ...o, heldBytes: 50 })).toBe(9);
    expect(doneWithoutSupervisor({ ...o, heldBytes: 51 })).toBeUndefined();
    expect(doneWithoutSupervisor({ ...o, dones: [] })).toBeUndefined();
  });

  it('refuses a malformed replica', () => {
    expect(() => replicaArgs(['app', 1, 'in', 2, { counts: ['x'] }])).toThrow(ReplicaRefusedError);
    expect(() => replicaArgs(['app', '1', 'in', 2, { counts: [1] }])).toThrow(ReplicaRefusedError);
    expect(replicaArgs(['app', 1, 'in', 2, { counts: [1], extra: 1 }])).toEqual({
      app: 'app',
      entry: [1, 'in', 2, { counts: [1] }],
    });
  });

  it('answers a held window-log call once its entry is durable elsewhere, and still sends it to the store on adoption', async () => {
    const replicated: unknown[][] = [];
    let ack: (ok: boolean) => void = () => {};
    const calls = new HeldCalls(
      1 << 20,
      () => {},
      (_app, method, args) => {
        if (method !== 'store' || args[2] !== 'appendWindowLog') return undefined;
        replicated.push(args);
        return new Promise<boolean>((resolve) => {
          ack = resolve;
        });
      },
    );
    const received: unknown[] = [];
    const { server, url } = await startServer({
      onPeer: (peer) =>
        new Rpc(peer).attach().onCall((_m, a) => {
          received.push(a[2]);
          return null;
        }),
    });
    servers.push(server);
    calls.connected(undefined);
    calls.open('app'); // hosted, no supervisor: everything is held
    const store = calls.channel('app');
    let logged = false;
    void store.call('store', 'app', 1, 'appendWindowLog', 'in', 4, { counts: [3] }).then(() => {
      logged = true;
    });
    const snapshot = store.call('store', 'app', 1, 'saveFrame', 'in', 4, new Uint8Array(8));
    await until(() => replicated.length === 1);
    expect(calls.held.calls).toBe(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(logged).toBe(false);
    ack(true);
    await until(() => logged);
    expect(calls.held.calls).toBe(2);
    // Adopted by a supervisor: both go to the store, in order.
    calls.connected(await dial(url));
    calls.open('app');
    await snapshot;
    expect(received).toEqual(['appendWindowLog', 'saveFrame']);
  });

  it('writes the held entries of the store epoch, in order, once each, and nothing of another epoch', async () => {
    const store = new MemorySnapshotStore();
    await store.open();
    const fromA = [entry(9, 'in', 2), entry(9, 'in', 1)];
    const fromB = [entry(9, 'in', 1), entry(9, 'in', 3), entry(8, 'in', 4), ['junk'], 'junk'];
    expect(await writeHeldLogs(store, 9, [...fromA, ...fromB])).toBe(3);
    const logged = await store.readWindowLog('in', 1, 4);
    expect([...logged]).toEqual([
      [1, { counts: [1] }],
      [2, { counts: [2] }],
      [3, { counts: [3] }],
    ]);
    // Again (a supervisor that died after writing them): the same puts.
    expect(await writeHeldLogs(store, 9, fromA)).toBe(2);
    expect((await store.readWindowLog('in', 1, 4)).size).toBe(3);
  });
});
