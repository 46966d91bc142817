import { SealedFrame, sealState, unsealState } from './codec.ts';
import { StoreClosedError, StoreLockedError } from './errors.ts';

/** Where an input operator's window ended: tuples each output port emitted in it, and a source offset. */
export type WindowLogEntry = { counts: number[]; offset?: unknown };

export interface SnapshotStore {
  /** Names the store in messages (a directory, or "memory"). */
  readonly location: string;
  /** What opening the store found wrong but survivable (a recovered LevelDB log): said at restore. */
  readonly openWarnings?: readonly string[];
  /** Takes exclusive use of the store; a store used by another open (this or another process) => StoreLockedError. */
  open(): Promise<void>;
  /** Waits for the operations in flight, then releases the store. Operations after close => StoreClosedError. */
  close(): Promise<void>;
  /**
   * Stores one actor's state snapshot for window w, replacing any earlier one for w. The state is encoded
   * (with a checksum) before this returns its promise, so the caller may mutate it right away; a
   * SealedFrame is stored as it is. Resolves when
   * the snapshot is durable; it only counts once its completion marker is written.
   */
  saveSnapshot(actorId: string, window: number, state: unknown): Promise<void>;
  /** The state saved for exactly (actorId, window); undefined if none (or no marker). Throws SnapshotCorruptError if checksum/decoding fails. */
  loadSnapshot(actorId: string, window: number): Promise<unknown | undefined>;
  /** Windows (ascending) that have a complete (marked) snapshot for actorId. */
  snapshotWindows(actorId: string): Promise<number[]>;
  /** Deletes the actor's snapshots with window < w. */
  deleteSnapshotsBelow(actorId: string, w: number): Promise<void>;
  /**
   * A local directory where any thread of this process may append input operators' window log entries
   * itself (src/storage/file-window-log.ts), without a round trip to the store's owner; readWindowLog and
   * deleteWindowLogBelow see them. Stores without one (memory, Redis, a cluster's) take appendWindowLog.
   */
  readonly windowLogDir?: string;
  /** Input operators' window log: where window w ended (replaces an earlier entry). Not synced: LevelDB's unsynced writes survive a process kill. */
  appendWindowLog(actorId: string, window: number, entry: WindowLogEntry): Promise<void>;
  /** Entries with from <= window <= to, as a Map window -> entry (in ascending window order). */
  readWindowLog(actorId: string, from: number, to: number): Promise<Map<number, WindowLogEntry>>;
  /**
   * Deletes the entries below w (a commit). The engine never appends below a window it deleted below
   * (replays start after a checkpoint at or above the commit), and a store may rely on it: the file
   * window log keeps a floor, below which an entry appended later is not seen.
   */
  deleteWindowLogBelow(actorId: string, w: number): Promise<void>;
  /** Small metadata values (committed window, last window id, application name, a plan fingerprint); putMeta is synced. */
  getMeta(key: string): Promise<unknown | undefined>;
  putMeta(key: string, value: unknown): Promise<void>;
  /** Every actor id that has snapshots, sorted (for diagnostics). */
  actorIds(): Promise<string[]>;
}

type Status = 'closed' | 'opening' | 'open' | 'closing';

/**
 * Level's pattern: each public method checks the state and its arguments and encodes or decodes values;
 * the protected `_method` of an implementation only moves checksummed frames (bytes) in and out, so every
 * store validates, encodes and fails alike. Window arguments are non-negative safe integers; range bounds
 * are any safe integers. Actor ids are non-empty strings without U+0000 (the key separator).
 *
 *   closed --open()--> opening --> open --close()--> closing --(operations in flight settle)--> closed
 *      ^                  |
 *      +----(open fails)--+
 */
export abstract class AbstractSnapshotStore implements SnapshotStore {
  #status: Status = 'closed';
  #transition: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  /** `location` names the store in error messages (a directory, or "memory"). */
  constructor(readonly location: string) {}

  get status(): Status {
    return this.#status;
  }

  async open(): Promise<void> {
    if (this.#status === 'closing') await this.#transition;
    if (this.#status !== 'closed') throw new StoreLockedError(this.location);
    this.#status = 'opening';
    this.#transition = this._open().then(
      () => {
        this.#status = 'open';
      },
      (err: unknown) => {
        this.#status = 'closed';
        throw err;
      },
    );
    await this.#transition;
  }

  async close(): Promise<void> {
    if (this.#status === 'opening') await this.#transition?.catch(() => undefined);
    if (this.#status === 'closing') return this.#transition;
    if (this.#status === 'closed') return;
    this.#status = 'closing';
    this.#transition = (async () => {
      await Promise.allSettled(this.#inFlight);
      try {
        await this._close();
      } finally {
        this.#status = 'closed';
      }
    })();
    return this.#transition;
  }

  saveSnapshot(actorId: string, window: number, state: unknown): Promise<void> {
    return this.#run(() => {
      checkActorId(actorId);
      checkWindow(window);
      const frame =
        state instanceof SealedFrame ? state.bytes : sealState(state, { kind: 'snapshot', actorId, window });
      return this._saveSnapshot(actorId, window, frame);
    });
  }

  loadSnapshot(actorId: string, window: number): Promise<unknown | undefined> {
    return this.#run(async () => {
      checkActorId(actorId);
      checkWindow(window);
      const frame = await this._loadSnapshot(actorId, window);
      return frame === undefined ? undefined : unsealState(frame, { kind: 'snapshot', actorId, window });
    });
  }

  snapshotWindows(actorId: string): Promise<number[]> {
    return this.#run(() => {
      checkActorId(actorId);
      return this._snapshotWindows(actorId);
    });
  }

  deleteSnapshotsBelow(actorId: string, w: number): Promise<void> {
    return this.#run(async () => {
      checkActorId(actorId);
      checkBound(w);
      if (w > 0) await this._deleteSnapshotsBelow(actorId, w);
    });
  }

  appendWindowLog(actorId: string, window: number, entry: WindowLogEntry): Promise<void> {
    return this.#run(() => {
      checkActorId(actorId);
      checkWindow(window);
      const frame = sealState(entry, { kind: 'window-log', actorId, window });
      return this._appendWindowLog(actorId, window, frame);
    });
  }

  readWindowLog(actorId: string, from: number, to: number): Promise<Map<number, WindowLogEntry>> {
    return this.#run(async () => {
      checkActorId(actorId);
      checkBound(from);
      checkBound(to);
      const entries = new Map<number, WindowLogEntry>();
      if (to < 0 || from > to) return entries;
      for (const [window, frame] of await this._readWindowLog(actorId, Math.max(0, from), to)) {
        entries.set(window, unsealState(frame, { kind: 'window-log', actorId, window }) as WindowLogEntry);
      }
      return entries;
    });
  }

  deleteWindowLogBelow(actorId: string, w: number): Promise<void> {
    return this.#run(async () => {
      checkActorId(actorId);
      checkBound(w);
      if (w > 0) await this._deleteWindowLogBelow(actorId, w);
    });
  }

  getMeta(key: string): Promise<unknown | undefined> {
    return this.#run(async () => {
      checkKey(key);
      const frame = await this._getMeta(key);
      return frame === undefined ? undefined : unsealState(frame, { kind: 'meta', key });
    });
  }

  putMeta(key: string, value: unknown): Promise<void> {
    return this.#run(() => {
      checkKey(key);
      return this._putMeta(key, sealState(value, { kind: 'meta', key }));
    });
  }

  actorIds(): Promise<string[]> {
    return this.#run(async () => (await this._actorIds()).sort());
  }

  /** Runs an operation if the store is open and tracks it, so close() can wait for it. */
  #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#status !== 'open') return Promise.reject(new StoreClosedError(this.location));
    let promise: Promise<T>;
    try {
      promise = operation();
      if (this._explains) promise = promise.catch((err: unknown) => Promise.reject(this._explain(err)));
    } catch (err) {
      return Promise.reject(this._explain(err));
    }
    this.#inFlight.add(promise);
    const settle = () => this.#inFlight.delete(promise);
    promise.then(settle, settle);
    return promise;
  }

  /**
   * The error an operation failed with, as the user should read it (a backend's damage named as such).
   * Only stores that set `_explains` are asked: the others keep their operations' timing exactly.
   */
  protected readonly _explains: boolean = false;
  protected _explain(err: unknown): unknown {
    return err;
  }

  /** Acquires the backing storage; throws StoreLockedError if another open holds it. */
  protected abstract _open(): Promise<void>;
  protected abstract _close(): Promise<void>;
  /** Durably stores the frame together with its completion marker. */
  protected abstract _saveSnapshot(actorId: string, window: number, frame: Uint8Array): Promise<void>;
  /** The frame of a marked snapshot, or undefined. */
  protected abstract _loadSnapshot(actorId: string, window: number): Promise<Uint8Array | undefined>;
  protected abstract _snapshotWindows(actorId: string): Promise<number[]>;
  /** w >= 1. */
  protected abstract _deleteSnapshotsBelow(actorId: string, w: number): Promise<void>;
  protected abstract _appendWindowLog(actorId: string, window: number, frame: Uint8Array): Promise<void>;
  /** 0 <= from <= to; ascending by window. */
  protected abstract _readWindowLog(
    actorId: string,
    from: number,
    to: number,
  ): Promise<Array<[number, Uint8Array]>>;
  /** w >= 1. */
  protected abstract _deleteWindowLogBelow(actorId: string, w: number): Promise<void>;
  protected abstract _getMeta(key: string): Promise<Uint8Array | undefined>;
  protected abstract _putMeta(key: string, frame: Uint8Array): Promise<void>;
  protected abstract _actorIds(): Promise<string[]>;
}

function checkActorId(actorId: string): void {
  if (typeof actorId !== 'string' || actorId === '' || actorId.includes('\u0000')) {
    throw new TypeError(`actorId must be a non-empty string without U+0000, got ${JSON.stringify(actorId)}`);
  }
}

function checkWindow(window: number): void {
  if (!Number.isSafeInteger(window) || window < 0) {
    throw new RangeError(`window must be a non-negative safe integer, got ${window}`);
  }
}

function checkBound(bound: number): void {
  if (!Number.isSafeInteger(bound)) throw new RangeError(`window bound must be a safe integer, got ${bound}`);
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '') {
    throw new TypeError(`meta key must be a non-empty string, got ${JSON.stringify(key)}`);
  }
}
