import { StoreLockedError } from './errors.ts';
import { AbstractSnapshotStore } from './snapshot-store.ts';

/** What a memory store keeps; share it between instances to play "a new process on the same directory". */
export type MemoryStoreData = {
  locked: boolean;
  /** actorId -> window -> frame. A frame is only ever set whole, so it doubles as its own marker. */
  snapshots: Map<string, Map<number, Uint8Array>>;
  windowLog: Map<string, Map<number, Uint8Array>>;
  meta: Map<string, Uint8Array>;
};

export function emptyMemoryStoreData(): MemoryStoreData {
  return { locked: false, snapshots: new Map(), windowLog: new Map(), meta: new Map() };
}

/**
 * The snapshot store in memory, for tests: it behaves as LevelSnapshotStore does, lock included. The test
 * kit simulates a crash and relaunch by closing it and opening it again (or a new instance on `data`).
 */
export class MemorySnapshotStore extends AbstractSnapshotStore {
  readonly data: MemoryStoreData;

  constructor(options: { data?: MemoryStoreData } = {}) {
    super('memory');
    this.data = options.data ?? emptyMemoryStoreData();
  }

  /** Test hook: damages the stored bytes of a snapshot so that loading it fails its checksum. */
  corrupt(actorId: string, window: number): void {
    const frame = this.data.snapshots.get(actorId)?.get(window);
    if (frame === undefined)
      throw new RangeError(`no snapshot of actor "${actorId}" at window ${window} to corrupt`);
    const last = frame.length - 1;
    frame[last] = (frame[last] ?? 0) ^ 0xff;
  }

  protected async _open(): Promise<void> {
    if (this.data.locked) throw new StoreLockedError(this.location);
    this.data.locked = true;
  }

  protected async _close(): Promise<void> {
    this.data.locked = false;
  }

  protected async _saveSnapshot(actorId: string, window: number, frame: Uint8Array): Promise<void> {
    windowsOf(this.data.snapshots, actorId).set(window, frame);
  }

  protected async _loadSnapshot(actorId: string, window: number): Promise<Uint8Array | undefined> {
    return this.data.snapshots.get(actorId)?.get(window);
  }

  protected async _snapshotWindows(actorId: string): Promise<number[]> {
    return [...(this.data.snapshots.get(actorId)?.keys() ?? [])].sort((a, b) => a - b);
  }

  protected async _deleteSnapshotsBelow(actorId: string, w: number): Promise<void> {
    deleteBelow(this.data.snapshots, actorId, w);
  }

  protected async _appendWindowLog(actorId: string, window: number, frame: Uint8Array): Promise<void> {
    windowsOf(this.data.windowLog, actorId).set(window, frame);
  }

  protected async _readWindowLog(
    actorId: string,
    from: number,
    to: number,
  ): Promise<Array<[number, Uint8Array]>> {
    const entries = [...(this.data.windowLog.get(actorId) ?? [])];
    return entries.filter(([w]) => w >= from && w <= to).sort(([a], [b]) => a - b);
  }

  protected async _deleteWindowLogBelow(actorId: string, w: number): Promise<void> {
    deleteBelow(this.data.windowLog, actorId, w);
  }

  protected async _getMeta(key: string): Promise<Uint8Array | undefined> {
    return this.data.meta.get(key);
  }

  protected async _putMeta(key: string, frame: Uint8Array): Promise<void> {
    this.data.meta.set(key, frame);
  }

  protected async _actorIds(): Promise<string[]> {
    return [...this.data.snapshots.keys()];
  }
}

function windowsOf(byActor: Map<string, Map<number, Uint8Array>>, actorId: string): Map<number, Uint8Array> {
  let windows = byActor.get(actorId);
  if (windows === undefined) byActor.set(actorId, (windows = new Map()));
  return windows;
}

function deleteBelow(byActor: Map<string, Map<number, Uint8Array>>, actorId: string, w: number): void {
  const windows = byActor.get(actorId);
  if (windows === undefined) return;
  for (const window of windows.keys()) if (window < w) windows.delete(window);
  if (windows.size === 0) byActor.delete(actorId);
}
