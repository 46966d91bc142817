import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { SnapshotCorruptError, StoreDamagedError, StoreLockedError } from './errors.ts';
import { FileWindowLog } from './file-window-log.ts';
import { GroupCommit } from './group-commit.ts';
import { AbstractSnapshotStore } from './snapshot-store.ts';
import { makeStoreDir, storePathProblem } from './store-path.ts';

/*
 * Layout: four sublevels, keyed `${actorId}\0${window as 16 zero-padded digits}` so that an actor's keys
 * are contiguous and sort by window (2 < 10 < 100; Number.MAX_SAFE_INTEGER has 16 digits). Actor ids
 * cannot contain \0, so the range [`${actorId}\0`, `${actorId}\x01`) holds exactly one actor's keys.
 *
 *   !snap!<actor>\0<window>  -> checksummed state frame (or, for a frame over CHUNK_BYTES, a chunk head)
 *   !mark!<actor>\0<window>  -> empty: the snapshot is complete
 *   !chnk!<actor>\0<window>\0<index> -> the index-th CHUNK_BYTES of a large frame
 *   !wlog!<actor>\0<window>  -> checksummed WindowLogEntry frame (stores written before the window log
 *                              moved to files; still read, and deleted below the commit)
 *   !meta!<key>              -> checksummed value frame
 */
export const LEVEL_SUBLEVELS = {
  snapshots: 'snap',
  markers: 'mark',
  windowLog: 'wlog',
  meta: 'meta',
  chunks: 'chnk',
} as const;

/*
 * A frame larger than this is written in chunks, one synced write each, then its head and marker: LevelDB
 * copies a write's values into its batch on the calling (main) thread, and a 16 MB copy of fresh memory
 * blocks the event loop for a long time on a busy machine; chunk by chunk, other work runs in between.
 * A head is CHUNKED, then the chunk count and the frame's length (uint32 each): never a frame, whose first
 * byte is the codec's version (1).
 */
const CHUNK_BYTES = 1 << 20;
const CHUNKED = 0xcc;
const chunkKey = (actorId: string, window: number, index: number) =>
  `${levelRecordKey(actorId, window)}\u0000${index.toString().padStart(8, '0')}`;

export function levelRecordKey(actorId: string, window: number): string {
  return `${actorId}\u0000${window.toString().padStart(16, '0')}`;
}

const actorStart = (actorId: string) => `${actorId}\u0000`;
const actorEnd = (actorId: string) => `${actorId}\u0001`;
const windowOfKey = (key: string) => Number(key.slice(key.lastIndexOf('\u0000') + 1));
const EMPTY = new Uint8Array(0);

type Db = Level<string, Uint8Array>;
type Handles = {
  db: Db;
  snapshots: Sub;
  markers: Sub;
  windowLog: Sub;
  meta: Sub;
  chunks: Sub;
  synced: GroupCommit<BatchOp>;
};
type BatchOp = { type: 'put'; sublevel: Sub; key: string; value: Uint8Array };
type Sub = ReturnType<typeof sublevel>;

function sublevel(db: Db, name: string) {
  return db.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' });
}

export class LevelSnapshotStore extends AbstractSnapshotStore {
  readonly #onWarning: (msg: string) => void;
  #handles: Handles | undefined;
  /** The window log: files in the store's directory (src/storage/file-window-log.ts). */
  readonly windowLogDir: string;
  readonly #windowLog: FileWindowLog;
  /** The store has window log entries in LevelDB (written by an older version). */
  #legacyWindowLog = false;

  constructor(
    readonly dir: string,
    options: { onWarning?: (msg: string) => void } = {},
  ) {
    super(dir);
    this.#onWarning = options.onWarning ?? (() => {});
    this.windowLogDir = join(dir, 'window-log');
    this.#windowLog = new FileWindowLog(this.windowLogDir);
  }

  readonly openWarnings: string[] = [];

  #warn(message: string): void {
    this.openWarnings.push(message);
    this.#onWarning(message);
  }

  /** Set while open; the base class calls the `_methods` only then. */
  get #s(): Handles {
    return this.#handles!;
  }

  protected async _open(): Promise<void> {
    await makeStoreDir(this.dir);
    const db: Db = new Level<string, Uint8Array>(this.dir, { valueEncoding: 'view' });
    try {
      await db.open();
    } catch (err) {
      // classic-level reports a held LOCK file (this process or another) as LEVEL_DATABASE_NOT_OPEN with
      // a cause whose code is LEVEL_LOCKED; other failures (permissions, a damaged database) pass through.
      if ((err as { cause?: { code?: unknown } }).cause?.code === 'LEVEL_LOCKED') {
        throw new StoreLockedError(this.dir, { cause: err });
      }
      throw (
        (await storePathProblem(this.dir, err)) ??
        new StoreDamagedError(this.dir, levelProblem(err), { cause: err })
      );
    }
    await this.#warnOfDroppedLog();
    this.#handles = {
      db,
      snapshots: sublevel(db, LEVEL_SUBLEVELS.snapshots),
      markers: sublevel(db, LEVEL_SUBLEVELS.markers),
      windowLog: sublevel(db, LEVEL_SUBLEVELS.windowLog),
      meta: sublevel(db, LEVEL_SUBLEVELS.meta),
      chunks: sublevel(db, LEVEL_SUBLEVELS.chunks),
      synced: new GroupCommit<BatchOp>((ops) => db.batch(ops, { sync: true })),
    };
    try {
      this.#legacyWindowLog = (await this.#handles.windowLog.keys({ limit: 1 }).all()).length > 0;
    } catch (err) {
      await db.close().catch(() => {});
      throw this._explain(err);
    }
  }

  /**
   * LevelDB recovers a damaged write-ahead log by dropping what fails its checksum and says so only in
   * its LOG file: what this open dropped is said here (the window log's consistency check at restore then
   * refuses a store that can no longer replay exactly).
   */
  async #warnOfDroppedLog(): Promise<void> {
    let log: string;
    try {
      log = await readFile(join(this.dir, 'LOG'), 'utf8');
    } catch {
      return;
    }
    const dropped = log.split('\n').filter((line) => /dropping \d+ bytes/.test(line));
    if (dropped.length === 0) return;
    const what = dropped.map((line) => line.replace(/^.*?(Log #|\S+\.log)/, '$1').trim()).join('; ');
    this.#warn(
      `${this.dir}: LevelDB found its log damaged when opening the store and dropped what failed its checksum (${what}); what was written there before the last stop may be lost`,
    );
  }

  /* LevelDB's checksums caught damage in a table or log block while reading: named as the store's. */
  protected override readonly _explains = true;
  protected override _explain(err: unknown): unknown {
    const code = (err as { code?: unknown } | undefined)?.code;
    if (code !== 'LEVEL_CORRUPTION' && code !== 'LEVEL_IO_ERROR') return err;
    const message = err instanceof Error ? err.message : String(err);
    return new StoreDamagedError(this.dir, `LevelDB cannot read it (${message})`, { cause: err });
  }

  protected async _close(): Promise<void> {
    const db = this.#handles?.db;
    this.#handles = undefined;
    this.#windowLog.close();
    await db?.close();
  }

  /*
   * Data and marker go in one batch written with sync: true. A LevelDB write batch is a single record in
   * its write-ahead log, applied whole or (torn, failing its log checksum) not at all on recovery, so the
   * marker never exists without its data; and it costs one fsync where data-then-marker would cost two.
   * The marker still earns its place: listing windows reads only the small marker keys, never the frames.
   */
  protected async _saveSnapshot(actorId: string, window: number, frame: Uint8Array): Promise<void> {
    const { snapshots, markers, chunks, synced } = this.#s;
    const key = levelRecordKey(actorId, window);
    let value = frame;
    if (frame.length > CHUNK_BYTES) {
      // Chunks first, each durable before the next is copied; the marker comes with the head, last.
      const count = Math.ceil(frame.length / CHUNK_BYTES);
      for (let i = 0; i < count; i++) {
        const chunk = frame.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
        await synced.write([
          { type: 'put', sublevel: chunks, key: chunkKey(actorId, window, i), value: chunk },
        ]);
      }
      value = new Uint8Array(9);
      value[0] = CHUNKED;
      new DataView(value.buffer).setUint32(1, count);
      new DataView(value.buffer).setUint32(5, frame.length);
    }
    await synced.write([
      { type: 'put', sublevel: snapshots, key, value },
      { type: 'put', sublevel: markers, key, value: EMPTY },
    ]);
  }

  /** The frame a chunk head stands for, its chunks put back together. */
  async #unchunk(actorId: string, window: number, head: Uint8Array): Promise<Uint8Array> {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const count = view.getUint32(1);
    const length = view.getUint32(5);
    const keys = Array.from({ length: count }, (_, i) => chunkKey(actorId, window, i));
    const chunks = (await this.#s.chunks.getMany(keys)) as Array<Uint8Array | undefined>;
    const frame = new Uint8Array(length);
    let at = 0;
    for (const [i, chunk] of chunks.entries()) {
      if (chunk === undefined || at + chunk.length > length) {
        throw new SnapshotCorruptError(
          { kind: 'snapshot', actorId, window },
          `chunk ${i} of ${count} missing or too long`,
        );
      }
      frame.set(chunk, at);
      at += chunk.length;
    }
    if (at !== length)
      throw new SnapshotCorruptError(
        { kind: 'snapshot', actorId, window },
        `chunks hold ${at} of ${length} bytes`,
      );
    return frame;
  }

  protected async _loadSnapshot(actorId: string, window: number): Promise<Uint8Array | undefined> {
    const { snapshots, markers } = this.#s;
    const key = levelRecordKey(actorId, window);
    const [marker, frame] = (await Promise.all([markers.get(key), snapshots.get(key)])) as Array<
      Uint8Array | undefined
    >;
    if (marker === undefined) {
      if (frame !== undefined) {
        this.#onWarning(
          `${this.dir}: snapshot data of actor "${actorId}" at window ${window} has no completion marker ` +
            '(an interrupted write); it is ignored',
        );
      }
      return undefined;
    }
    if (frame === undefined) {
      throw new SnapshotCorruptError(
        { kind: 'snapshot', actorId, window },
        'marker present but data missing',
      );
    }
    return frame.length === 9 && frame[0] === CHUNKED ? this.#unchunk(actorId, window, frame) : frame;
  }

  protected async _snapshotWindows(actorId: string): Promise<number[]> {
    const windows: number[] = [];
    const range = { gte: actorStart(actorId), lt: actorEnd(actorId) };
    for await (const key of this.#s.markers.keys(range)) windows.push(windowOfKey(key));
    return windows;
  }

  /* Markers first: a crash between the two clears leaves unmarked data, which is invisible. */
  protected async _deleteSnapshotsBelow(actorId: string, w: number): Promise<void> {
    const range = { gte: actorStart(actorId), lt: levelRecordKey(actorId, w) };
    await this.#s.markers.clear(range);
    await this.#s.snapshots.clear(range);
    await this.#s.chunks.clear(range);
  }

  protected async _appendWindowLog(actorId: string, window: number, frame: Uint8Array): Promise<void> {
    this.#windowLog.append(actorId, window, frame);
  }

  protected async _readWindowLog(
    actorId: string,
    from: number,
    to: number,
  ): Promise<Array<[number, Uint8Array]>> {
    const range = { gte: levelRecordKey(actorId, from), lte: levelRecordKey(actorId, to) };
    const entries = new Map<number, Uint8Array>();
    if (this.#legacyWindowLog)
      for await (const [key, frame] of this.#s.windowLog.iterator(range))
        entries.set(windowOfKey(key), frame);
    // The files are newer than any LevelDB entry: theirs win.
    for (const [window, frame] of this.#windowLog.read(actorId, from, to)) entries.set(window, frame);
    return [...entries].sort((a, b) => a[0] - b[0]);
  }

  protected async _deleteWindowLogBelow(actorId: string, w: number): Promise<void> {
    this.#windowLog.deleteBelow(actorId, w);
    if (this.#legacyWindowLog)
      await this.#s.windowLog.clear({ gte: actorStart(actorId), lt: levelRecordKey(actorId, w) });
  }

  protected async _getMeta(key: string): Promise<Uint8Array | undefined> {
    return (await this.#s.meta.get(key)) as Uint8Array | undefined;
  }

  protected async _putMeta(key: string, frame: Uint8Array): Promise<void> {
    // Through the root: the sublevel's put() forwards `sync` but its option type does not declare it.
    const { meta, synced } = this.#s;
    await synced.write([{ type: 'put', sublevel: meta, key, value: frame }]);
  }

  /* Skip-scan: one seek per actor, not one step per snapshot. */
  protected async _actorIds(): Promise<string[]> {
    const ids: string[] = [];
    const iterator = this.#s.markers.keys();
    try {
      for (let key = await iterator.next(); key !== undefined; key = await iterator.next()) {
        const actorId = key.slice(0, key.indexOf('\u0000'));
        ids.push(actorId);
        iterator.seek(actorEnd(actorId));
      }
    } finally {
      await iterator.close();
    }
    return ids;
  }
}

/** LevelDB's own words for why it cannot open a store ("Corruption: bad entry in block", "IO error: …"). */
function levelProblem(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const message = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
  return `LevelDB cannot open it (${message})`;
}
