import { afterEach, describe, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { ClusterServer } from '../../src/cluster/server.ts';
import { ClusterStoreClient, serveStoreCall } from '../../src/cluster-run/cluster-store.ts';
import { Rpc } from '../../src/cluster-run/rpc.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';
import type { SnapshotStore } from '../../src/storage/snapshot-store.ts';
import { holdsWhatAModelHolds } from '../storage/store-model.ts';
import { SECRET, startServer } from './kit.ts';

/*
 * The supervisor's store as a node sees it: ClusterStoreClient → the cluster RPC (CBOR bodies, parts for
 * bodies over one frame) over an authenticated WebSocket on loopback → serveStoreCall → the store.
 * Snapshots of several MiB, window logs and metadata must read back as written.
 */
describe('ClusterStoreClient over the cluster RPC', () => {
  let server: ClusterServer | undefined;
  const clients: Rpc[] = [];
  afterEach(async () => {
    for (const rpc of clients.splice(0)) rpc.peer.close('test over');
    await server?.close();
    server = undefined;
  });

  it('holds what a model holds under random operations and node reconnections (property)', async () => {
    let backing = new MemorySnapshotStore();
    await backing.open();
    const started = await startServer({
      onPeer: (peer) => {
        // As the cluster supervisor answers: store calls carry the application and epoch first.
        new Rpc(peer).attach().onCall((method, args) => {
          if (method !== 'store') throw new Error(`no call ${method}`);
          return serveStoreCall(backing, args[2] as string, args.slice(3));
        });
      },
    });
    server = started.server;
    const nodeView = async (): Promise<SnapshotStore> => {
      const rpc = new Rpc(await joinCluster(started.url, { secret: SECRET })).attach();
      clients.push(rpc);
      return new ClusterStoreClient('cluster', rpc, 'app', 1);
    };
    let store = await nodeView();
    await holdsWhatAModelHolds('ClusterStoreClient', {
      store: () => store,
      // A relaunch: the supervisor's store reopened on its data, the node on a new connection.
      relaunch: async () => {
        await backing.close();
        backing = new MemorySnapshotStore({ data: backing.data });
        await backing.open();
        store = await nodeView();
        return store;
      },
      listsActors: false,
    });
    await backing.close();
  }, 120_000);
});
