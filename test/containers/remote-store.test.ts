import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { afterEach, describe, it } from 'vitest';
import { RemoteSnapshotStore, type StoreServer, storeServer } from '../../src/container/remote-store.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';
import type { SnapshotStore } from '../../src/storage/snapshot-store.ts';
import { holdsWhatAModelHolds } from '../storage/store-model.ts';

/*
 * The shared store as a container sees it: RemoteSnapshotStore → comlink over a MessageChannel (structured
 * clone, as between threads) → storeServer → the main thread's store. Snapshots cross as sealed frames,
 * the window log as a Map, metadata as values: all must read back as written.
 */
describe('RemoteSnapshotStore over comlink', () => {
  const channels: MessageChannel[] = [];
  afterEach(() => {
    for (const c of channels.splice(0)) {
      c.port1.close();
      c.port2.close();
    }
  });

  /** A container's view of `backing`, over a channel of its own (a replaced container gets a new one). */
  function containerView(backing: SnapshotStore): SnapshotStore {
    const channel = new MessageChannel();
    channels.push(channel);
    Comlink.expose(storeServer(backing), nodeEndpoint(channel.port1 as never));
    return new RemoteSnapshotStore('memory', Comlink.wrap<StoreServer>(nodeEndpoint(channel.port2 as never)));
  }

  it('holds what a model holds under random operations and container replacements (property)', async () => {
    let backing = new MemorySnapshotStore();
    await backing.open();
    let store = containerView(backing);
    await holdsWhatAModelHolds('RemoteSnapshotStore', {
      store: () => store,
      // A relaunch: the main thread's store reopened on its data, a new container on a new channel.
      relaunch: async () => {
        await backing.close();
        backing = new MemorySnapshotStore({ data: backing.data });
        await backing.open();
        store = containerView(backing);
        return store;
      },
      listsActors: false,
    });
    await backing.close();
  }, 120_000);
});
