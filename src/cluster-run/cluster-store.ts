import { storeServer } from '../container/remote-store.ts';
import { SealedFrame, sealState, unsealState } from '../storage/codec.ts';
import type { SnapshotStore, WindowLogEntry } from '../storage/snapshot-store.ts';
import type { Rpc } from './rpc.ts';

/**
 * The supervisor's snapshot store as a node sees it: every call goes over the node's cluster connection,
 * tagged with the application and the epoch its containers were deployed in. The supervisor answers
 * only the current epoch, so a container of a node declared dead (fenced) writes nothing.
 * Snapshots cross as sealed frames (checksummed bytes), as between threads.
 */
export class ClusterStoreClient implements SnapshotStore {
  constructor(
    readonly location: string,
    private readonly rpc: Pick<Rpc, 'call'>,
    private readonly app: string,
    private readonly epoch: number,
  ) {}

  private call(op: string, ...args: unknown[]): Promise<unknown> {
    return this.rpc.call('store', this.app, this.epoch, op, ...args);
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async saveSnapshot(actorId: string, window: number, state: unknown): Promise<void> {
    const frame =
      state instanceof SealedFrame ? state.bytes : sealState(state, { kind: 'snapshot', actorId, window });
    await this.call('saveFrame', actorId, window, frame);
  }

  async loadSnapshot(actorId: string, window: number): Promise<unknown | undefined> {
    const frame = (await this.call('loadFrame', actorId, window)) as Uint8Array | null;
    return frame == null ? undefined : unsealState(frame, { kind: 'snapshot', actorId, window });
  }

  async snapshotWindows(actorId: string): Promise<number[]> {
    return (await this.call('snapshotWindows', actorId)) as number[];
  }
  async deleteSnapshotsBelow(actorId: string, w: number): Promise<void> {
    await this.call('deleteSnapshotsBelow', actorId, w);
  }
  async appendWindowLog(actorId: string, window: number, entry: WindowLogEntry): Promise<void> {
    await this.call('appendWindowLog', actorId, window, entry);
  }
  async readWindowLog(actorId: string, from: number, to: number): Promise<Map<number, WindowLogEntry>> {
    // A Map with number keys is not a frame's shape (keys are text): it crosses as entries.
    const entries = (await this.call('readWindowLog', actorId, from, to)) as [number, WindowLogEntry][];
    return new Map(entries);
  }
  async deleteWindowLogBelow(actorId: string, w: number): Promise<void> {
    await this.call('deleteWindowLogBelow', actorId, w);
  }
  async getMeta(key: string): Promise<unknown | undefined> {
    // An array of the value, empty when there is none: a stored null must not read back as absent.
    const found = (await this.call('getMeta', key)) as unknown[];
    return found.length === 0 ? undefined : found[0];
  }
  async putMeta(key: string, value: unknown): Promise<void> {
    await this.call('putMeta', key, value);
  }
  async actorIds(): Promise<string[]> {
    return [];
  }
}

const OPS = new Set([
  'saveFrame',
  'loadFrame',
  'snapshotWindows',
  'deleteSnapshotsBelow',
  'appendWindowLog',
  'readWindowLog',
  'deleteWindowLogBelow',
  'getMeta',
  'putMeta',
]);

/** The supervisor's side: one store operation a node asked for (after the epoch was checked). */
export async function serveStoreCall(store: SnapshotStore, op: string, args: unknown[]): Promise<unknown> {
  if (!OPS.has(op)) throw new Error(`no store operation ${op}`);
  const server = storeServer(store) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const result = await server[op]!(...args);
  if (result instanceof Map) return [...result.entries()];
  if (op === 'getMeta') return result === undefined ? [] : [result];
  return result;
}
