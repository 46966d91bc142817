import { describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../src/storage/errors.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';
import { snapshotStoreConformance } from './snapshot-store.conformance.ts';

snapshotStoreConformance('MemorySnapshotStore', async () => {
  const store = new MemorySnapshotStore();
  return {
    store,
    reopen: () => new MemorySnapshotStore({ data: store.data }),
    corrupt: async (actorId, w) => store.corrupt(actorId, w),
    cleanup: async () => {},
  };
});

describe('MemorySnapshotStore', () => {
  it('survives a simulated crash and relaunch when one instance is reused', async () => {
    const store = new MemorySnapshotStore();
    await store.open();
    await store.saveSnapshot('op', 10, { n: 1 });
    await store.close();
    await store.open();
    expect(await store.loadSnapshot('op', 10)).toEqual({ n: 1 });
    await expect(store.open()).rejects.toBeInstanceOf(StoreLockedError);
    await store.close();
  });

  it('gives each new store its own data', async () => {
    const a = new MemorySnapshotStore();
    const b = new MemorySnapshotStore();
    await a.open();
    await b.open();
    await a.putMeta('k', 1);
    expect(await b.getMeta('k')).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('does not let a restored Uint8Array alias the stored bytes', async () => {
    const store = new MemorySnapshotStore();
    await store.open();
    await store.saveSnapshot('op', 1, { buf: new Uint8Array([1, 2, 3]) });
    const first = (await store.loadSnapshot('op', 1)) as { buf: Uint8Array };
    first.buf.fill(9);
    expect(await store.loadSnapshot('op', 1)).toEqual({ buf: new Uint8Array([1, 2, 3]) });
    await store.close();
  });

  it('refuses to corrupt a snapshot that does not exist', () => {
    expect(() => new MemorySnapshotStore().corrupt('op', 1)).toThrow(RangeError);
  });
});
