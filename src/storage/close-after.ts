import type { SnapshotStore } from './snapshot-store.ts';

/**
 * Runs `work`, then closes `store`. When the work failed, so may the close (the store's connection is what
 * broke): then the work's error is the one reported, not the close's.
 */
export async function closeAfter(store: SnapshotStore, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  await store.close();
}
