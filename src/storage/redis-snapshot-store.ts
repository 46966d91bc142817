import { Redis } from 'ioredis';
import { SluiceError } from '../core/errors.ts';
import {
  confirmDatabase,
  isRedisAuthError,
  REDIS_AUTH_HINT,
  redisDatabaseOf,
} from '../core/redis-database.ts';
import { watchSlow } from '../core/slow-call.ts';
import { SnapshotCorruptError } from './errors.ts';
import { isLeaseLost, LEASE_CHECK, RedisStoreLock, StoreLeaseLostError } from './redis-store-lock.ts';
import { AbstractSnapshotStore } from './snapshot-store.ts';

/*
 * Layout, every key under one hash tag `{name}` (a Redis Cluster keeps them in one slot, so the scripts
 * may touch several):
 *
 *   {name}:lock              string  the store-in-use lease (RedisStoreLock)
 *   {name}:snap:<actor>      hash    window -> checksummed state frame (the same frames as LevelDB's)
 *   {name}:mark:<actor>      zset    window scored by window: the completion markers, listed in order
 *   {name}:actors            set     actors that have at least one marked snapshot
 *   {name}:wlog:<actor>      hash    window -> checksummed WindowLogEntry frame
 *   {name}:widx:<actor>      zset    the window log's windows, scored by window
 *   {name}:meta              hash    key -> checksummed value frame
 *
 * Scores are doubles, exact for every safe integer, so windows up to Number.MAX_SAFE_INTEGER sort right.
 * Each write is one Lua script: Redis runs it atomically (as it would MULTI/EXEC, and the AOF records its
 * effects as one MULTI/EXEC block), and unlike MULTI/EXEC it can check the lease first, so the data and
 * its marker are written together, and only by the lease holder.
 *
 * Durability is the Redis server's: with `appendfsync always` (or a replica and WAIT) a write acknowledged
 * is on disk; with Redis's defaults a Redis crash may lose the last second. Run production Redis with AOF.
 */
export type RedisStoreKeys = ReturnType<typeof redisStoreKeys>;

export function redisStoreKeys(name: string) {
  const tag = `{${name}}`;
  return {
    lock: `${tag}:lock`,
    actors: `${tag}:actors`,
    meta: `${tag}:meta`,
    snapshots: (actorId: string) => `${tag}:snap:${actorId}`,
    markers: (actorId: string) => `${tag}:mark:${actorId}`,
    windowLog: (actorId: string) => `${tag}:wlog:${actorId}`,
    windowIndex: (actorId: string) => `${tag}:widx:${actorId}`,
  };
}

// KEYS: lock, hash, zset[, actors]  ARGV: token, window, frame[, actorId]
const PUT_INDEXED = `${LEASE_CHECK}redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])
if KEYS[4] then redis.call('SADD', KEYS[4], ARGV[4]) end
return 1`;

// Markers first, as LevelDB does (unmarked data is invisible); in chunks, as Lua's unpack() is bounded.
// KEYS: lock, hash, zset[, actors]  ARGV: token, w[, actorId]
const DELETE_BELOW = `${LEASE_CHECK}local ws = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[2])
for i = 1, #ws, 1000 do
  local last = math.min(i + 999, #ws)
  redis.call('ZREM', KEYS[3], unpack(ws, i, last))
  redis.call('HDEL', KEYS[2], unpack(ws, i, last))
end
if KEYS[4] and redis.call('ZCARD', KEYS[3]) == 0 then redis.call('SREM', KEYS[4], ARGV[3]) end
return #ws`;

// KEYS: lock, meta  ARGV: token, key, frame
const PUT_META = `${LEASE_CHECK}return redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])`;

/** open() could not connect to the Redis server of a RedisSnapshotStore. */
export class StoreUnreachableError extends SluiceError {
  constructor(
    readonly location: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? ` (${cause.message})` : '';
    super(
      'SLUICE_STORE_UNREACHABLE',
      `Cannot connect to the Redis snapshot store at ${location}${detail}. Check that Redis is running ` +
        'there and reachable from this machine, or give --store a directory.',
      { cause },
    );
  }
}

/** A store call failed because the connection to Redis is gone (mid-run, after open() succeeded). */
export class StoreConnectionLostError extends SluiceError {
  constructor(
    readonly location: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? ` (${cause.message})` : '';
    super(
      'SLUICE_STORE_CONNECTION_LOST',
      `the Redis snapshot store at ${location} is not connected${detail}; what it committed is kept: ` +
        'relaunch on it once Redis is back',
      { cause },
    );
  }
}

/**
 * Whether a failed call failed for want of a connection. The status alone is not enough: between the
 * server closing the socket and ioredis seeing 'close', the status is still 'ready' and a call is refused
 * with "Stream isn't writeable" (seen on a loaded machine, right after Redis stopped).
 */
export function connectionGone(redis: Pick<Redis, 'status'>, err: unknown): boolean {
  if (redis.status !== 'ready') return true;
  const message = err instanceof Error ? err.message : '';
  return message.startsWith("Stream isn't writeable") || message === 'Connection is closed.';
}

export type RedisSnapshotStoreOptions = {
  /** Key namespace (the hash tag); default the URL's `?name=` or "sluice". One store per name. */
  name?: string;
  /** Store-in-use lease; a killed holder's lock frees after this long. Default 10 s. */
  leaseMs?: number;
  /** How long open() waits for a held lock (a killed run's lease running out). Default 0: fail at once. */
  lockWaitMs?: number;
  /**
   * A call pending this long is reported to onWarning (and again every as long), as is its answer when
   * it comes: a paused or swamped server stalls checkpoints and commits without failing them. Default 5 s.
   */
  slowCallMs?: number;
  onWarning?: (msg: string) => void;
};

/** How long a store call may be pending before it is reported (see RedisSnapshotStoreOptions.slowCallMs). */
export const STORE_SLOW_CALL_MS = 5_000;

/** A SnapshotStore on Redis (ioredis), for snapshots that must outlive a machine. URL: redis://host:port/db. */
export class RedisSnapshotStore extends AbstractSnapshotStore {
  readonly name: string;
  readonly keys: RedisStoreKeys;
  readonly #url: string;
  readonly #leaseMs: number;
  readonly #lockWaitMs: number;
  readonly #slowCallMs: number;
  readonly #onWarning: (msg: string) => void;
  #redis: Redis | undefined;
  #lock: RedisStoreLock | undefined;

  constructor(url: string, options: RedisSnapshotStoreOptions = {}) {
    const parsed = new URL(url);
    const name = options.name ?? parsed.searchParams.get('name') ?? 'sluice';
    parsed.searchParams.delete('name');
    if (parsed.password) parsed.password = '***';
    super(`${parsed.toString()} (keys {${name}})`);
    this.name = name;
    this.keys = redisStoreKeys(name);
    this.#url = url;
    this.#leaseMs = options.leaseMs ?? 10_000;
    this.#lockWaitMs = options.lockWaitMs ?? 0;
    this.#slowCallMs = options.slowCallMs ?? STORE_SLOW_CALL_MS;
    this.#onWarning = options.onWarning ?? (() => {});
  }

  /** The lease of the current open (tests look at its renewals). */
  get lock(): RedisStoreLock | undefined {
    return this.#lock;
  }

  get #r(): Redis {
    return this.#redis!;
  }

  protected async _open(): Promise<void> {
    const url = new URL(this.#url);
    url.searchParams.delete('name');
    // No offline queue: with Redis down an operation fails (and the run's store retry/restart applies)
    // instead of waiting in memory for a reconnection.
    const redis = new Redis(url.toString(), { lazyConnect: true, enableOfflineQueue: false });
    let lastError: Error | undefined;
    redis.on('error', (err: Error) => {
      lastError = err;
      this.#onWarning(`${this.location}: ${err.message}`);
    });
    try {
      const db = redisDatabaseOf(url.toString());
      if (db === undefined) throw databaseProblem(this.location, 'names no database (redis://host:port/0)');
      await redis.connect().catch((err: unknown) => {
        const cause = lastError ?? err;
        if (isRedisAuthError(cause)) {
          throw databaseProblem(
            this.location,
            `refused to authenticate (${describeError(cause)}): ${REDIS_AUTH_HINT}`,
          );
        }
        throw new StoreUnreachableError(this.location, cause);
      });
      await confirmDatabase(redis, db).catch((err: unknown) => {
        throw databaseProblem(this.location, `cannot select database ${db} (${describeError(err)})`);
      });
      const lock = new RedisStoreLock(redis, this.keys.lock, this.location, this.#leaseMs, this.#onWarning);
      await lock.acquire(this.#lockWaitMs);
      this.#redis = redis;
      this.#lock = lock;
    } catch (err) {
      redis.disconnect();
      throw err;
    }
  }

  protected async _close(): Promise<void> {
    const redis = this.#redis;
    const lock = this.#lock;
    this.#redis = undefined;
    this.#lock = undefined;
    try {
      // Without a connection the lease cannot be released: it runs out on its own (leaseMs). 'ready' is not
      // proof of one (see connectionGone): a release refused for want of it is that case too.
      if (redis?.status === 'ready') {
        await lock?.release().catch((err: unknown) => {
          if (!connectionGone(redis, err)) throw err;
        });
      } else lock?.stopRenewing();
    } finally {
      await redis?.quit().catch(() => redis.disconnect());
    }
  }

  /**
   * A call that has not been answered after slowCallMs is reported, every slowCallMs, and once more when
   * it is: nothing is retried (a write may yet land), but the run's stalled checkpoints say why.
   */
  async #watched<T>(what: string, call: Promise<T>): Promise<T> {
    let slow = false;
    const started = Date.now();
    try {
      const answer = await watchSlow(
        () => call,
        this.#slowCallMs,
        (ms) => {
          slow = true;
          this.#onWarning(
            `${this.location}: Redis has not answered ${what} for ${(ms / 1000).toFixed(1)} s; still waiting`,
          );
        },
      );
      return answer.value;
    } catch (err) {
      // ioredis without an offline queue refuses a call at once while it reconnects: say what that means.
      if (this.#redis !== undefined && !(err instanceof SluiceError) && connectionGone(this.#redis, err)) {
        throw new StoreConnectionLostError(this.location, err);
      }
      throw err;
    } finally {
      if (slow) {
        const s = ((Date.now() - started) / 1000).toFixed(1);
        this.#onWarning(`${this.location}: Redis answered ${what} after ${s} s`);
      }
    }
  }

  /** Runs a write script; a lease lost to another open becomes StoreLeaseLostError. */
  async #write(
    what: string,
    script: string,
    keys: string[],
    args: Array<string | Uint8Array>,
  ): Promise<void> {
    try {
      const values = args.map((a) =>
        typeof a === 'string' ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      );
      await this.#watched(what, this.#r.eval(script, keys.length, ...keys, this.#lock!.token, ...values));
    } catch (err) {
      if (isLeaseLost(err)) throw new StoreLeaseLostError(this.location, { cause: err });
      throw err;
    }
  }

  protected _saveSnapshot(actorId: string, window: number, frame: Uint8Array): Promise<void> {
    const k = this.keys;
    const keys = [k.lock, k.snapshots(actorId), k.markers(actorId), k.actors];
    return this.#write(`a write of the snapshot of ${actorId} at window ${window}`, PUT_INDEXED, keys, [
      String(window),
      frame,
      actorId,
    ]);
  }

  protected async _loadSnapshot(actorId: string, window: number): Promise<Uint8Array | undefined> {
    const field = String(window);
    const replies = await this.#watched(
      `a read of the snapshot of ${actorId} at window ${window}`,
      this.#r
        .multi()
        .zscore(this.keys.markers(actorId), field)
        .hgetBuffer(this.keys.snapshots(actorId), field)
        .exec(),
    );
    const [[markerErr, marker], [frameErr, frame]] = replies as Array<[Error | null, unknown]> as [
      [Error | null, string | null],
      [Error | null, Buffer | null],
    ];
    if (markerErr || frameErr) throw markerErr ?? frameErr;
    if (marker === null) return undefined;
    if (frame === null) {
      throw new SnapshotCorruptError(
        { kind: 'snapshot', actorId, window },
        'marker present but data missing',
      );
    }
    return frame;
  }

  protected async _snapshotWindows(actorId: string): Promise<number[]> {
    const read = this.#r.zrange(this.keys.markers(actorId), '0', '-1');
    return (await this.#watched(`a read of the checkpoints of ${actorId}`, read)).map(Number);
  }

  protected _deleteSnapshotsBelow(actorId: string, w: number): Promise<void> {
    const k = this.keys;
    const keys = [k.lock, k.snapshots(actorId), k.markers(actorId), k.actors];
    return this.#write(`a deletion of the snapshots of ${actorId}`, DELETE_BELOW, keys, [String(w), actorId]);
  }

  protected _appendWindowLog(actorId: string, window: number, frame: Uint8Array): Promise<void> {
    const k = this.keys;
    return this.#write(
      `a write of the window log of ${actorId} at window ${window}`,
      PUT_INDEXED,
      [k.lock, k.windowLog(actorId), k.windowIndex(actorId)],
      [String(window), frame],
    );
  }

  protected async _readWindowLog(
    actorId: string,
    from: number,
    to: number,
  ): Promise<Array<[number, Uint8Array]>> {
    const what = `a read of the window log of ${actorId}`;
    const index = this.#r.zrangebyscore(this.keys.windowIndex(actorId), String(from), String(to));
    const windows = await this.#watched(what, index);
    if (windows.length === 0) return [];
    const frames = await this.#watched(what, this.#r.hmgetBuffer(this.keys.windowLog(actorId), ...windows));
    const entries: Array<[number, Uint8Array]> = [];
    windows.forEach((w, i) => {
      const frame = frames[i];
      if (frame) entries.push([Number(w), frame]);
    });
    return entries;
  }

  protected _deleteWindowLogBelow(actorId: string, w: number): Promise<void> {
    const k = this.keys;
    const keys = [k.lock, k.windowLog(actorId), k.windowIndex(actorId)];
    return this.#write(`a deletion of the window log of ${actorId}`, DELETE_BELOW, keys, [String(w)]);
  }

  protected async _getMeta(key: string): Promise<Uint8Array | undefined> {
    return (
      (await this.#watched(`a read of the store's ${key}`, this.#r.hgetBuffer(this.keys.meta, key))) ??
      undefined
    );
  }

  protected _putMeta(key: string, frame: Uint8Array): Promise<void> {
    return this.#write(
      `a write of the store's ${key}`,
      PUT_META,
      [this.keys.lock, this.keys.meta],
      [key, frame],
    );
  }

  protected async _actorIds(): Promise<string[]> {
    return this.#watched('a read of the actor list', this.#r.smembers(this.keys.actors));
  }
}

/** A store URL whose database cannot be used: a configuration error, not an outage to wait out. */
function databaseProblem(location: string, problem: string): SluiceError {
  return new SluiceError('SLUICE_REDIS_CONFIG', `the snapshot store ${location} ${problem}`);
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
