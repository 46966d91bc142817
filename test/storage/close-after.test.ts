import { expect, it } from 'vitest';
import { closeAfter } from '../../src/storage/close-after.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';

class FailingClose extends MemorySnapshotStore {
  closes = 0;
  override async close(): Promise<void> {
    this.closes++;
    throw new Error('close failed');
  }
}

it("reports the work's failure, not the close's that followed it, and closes once either way", async () => {
  const store = new FailingClose();
  const failing = closeAfter(store, async () => {
    throw new Error('the run failed');
  });
  await expect(failing).rejects.toThrow('the run failed');
  expect(store.closes).toBe(1);
  // After work that succeeded, a failing close is the error (what was written may not be kept).
  await expect(closeAfter(store, async () => {})).rejects.toThrow('close failed');
  expect(store.closes).toBe(2);
});
