import { SealedFrame, sealState, unsealState } from '../storage/codec.ts';
import type { SnapshotStore, WindowLogEntry } from '../storage/snapshot-store.ts';

/**
 * The main thread's side of the one snapshot store all containers share (one LevelDB owner: a relaunch on
 * the same `--store` finds every actor's checkpoints, whichever container wrote them). Snapshots cross as
 * sealed frames (checksummed bytes): the worker encodes, the main thread only writes.
 */
export interface StoreServer {
  location(): Promise<string>;
  /** The store's local window log directory, if it has one (SnapshotStore.windowLogDir). */
  windowLogDir(): Promise<string | undefined>;
  saveFrame(actorId: string, window: number, frame: Uint8Array): Promise<void>;
  loadFrame(actorId: string, window: number): Promise<Uint8Array | undefined>;
  snapshotWindows(actorId: string): Promise<number[]>;
  deleteSnapshotsBelow(actorId: string, w: number): Promise<void>;
  appendWindowLog(actorId: string, window: number, entry: WindowLogEntry): Promise<void>;
  readWindowLog(actorId: string, from: number, to: number): Promise<Map<number, WindowLogEntry>>;
  deleteWindowLogBelow(actorId: string, w: number): Promise<void>;
  getMeta(key: string): Promise<unknown | undefined>;
  putMeta(key: string, value: unknown): Promise<void>;
}

/** Serves `store` to containers (runs on the main thread). */
export function storeServer(store: SnapshotStore): StoreServer {
  return {
    location: async () => store.location,
    windowLogDir: async () => store.windowLogDir,
    saveFrame: (id, w, frame) => store.saveSnapshot(id, w, new SealedFrame(frame)),
    // Decoded here and sealed again: the store's public API is values, and restores are rare.
    loadFrame: async (id, w) => {
      const value = await store.loadSnapshot(id, w);
      return value === undefined ? undefined : sealState(value, { kind: 'snapshot', actorId: id, window: w });
    },
    snapshotWindows: (id) => store.snapshotWindows(id),
    deleteSnapshotsBelow: (id, w) => store.deleteSnapshotsBelow(id, w),
    appendWindowLog: (id, w, entry) => store.appendWindowLog(id, w, entry),
    readWindowLog: (id, from, to) => store.readWindowLog(id, from, to),
    deleteWindowLogBelow: (id, w) => store.deleteWindowLogBelow(id, w),
    getMeta: (key) => store.getMeta(key),
    putMeta: (key, value) => store.putMeta(key, value),
  };
}

/**
 * A container's view of the shared store: every call goes to the main thread's StoreServer, except the
 * window log's appends where the store has a local directory for them (the container writes those).
 */
export class RemoteSnapshotStore implements SnapshotStore {
  constructor(
    readonly location: string,
    private readonly server: StoreServer,
    readonly windowLogDir?: string,
  ) {}

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  saveSnapshot(actorId: string, window: number, state: unknown): Promise<void> {
    // Encoded here, in the container, before the promise is returned (the caller may mutate the state).
    const frame =
      state instanceof SealedFrame ? state.bytes : sealState(state, { kind: 'snapshot', actorId, window });
    return this.server.saveFrame(actorId, window, frame);
  }

  async loadSnapshot(actorId: string, window: number): Promise<unknown | undefined> {
    const frame = await this.server.loadFrame(actorId, window);
    return frame === undefined ? undefined : unsealState(frame, { kind: 'snapshot', actorId, window });
  }

  snapshotWindows(actorId: string): Promise<number[]> {
    return this.server.snapshotWindows(actorId);
  }
  deleteSnapshotsBelow(actorId: string, w: number): Promise<void> {
    return this.server.deleteSnapshotsBelow(actorId, w);
  }
  appendWindowLog(actorId: string, window: number, entry: WindowLogEntry): Promise<void> {
    return this.server.appendWindowLog(actorId, window, entry);
  }
  readWindowLog(actorId: string, from: number, to: number): Promise<Map<number, WindowLogEntry>> {
    return this.server.readWindowLog(actorId, from, to);
  }
  deleteWindowLogBelow(actorId: string, w: number): Promise<void> {
    return this.server.deleteWindowLogBelow(actorId, w);
  }
  getMeta(key: string): Promise<unknown | undefined> {
    return this.server.getMeta(key);
  }
  putMeta(key: string, value: unknown): Promise<void> {
    return this.server.putMeta(key, value);
  }
  async actorIds(): Promise<string[]> {
    return [];
  }
}
