import { afterEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../src/storage/errors.ts';
import { connectionGone, RedisSnapshotStore } from '../../src/storage/redis-snapshot-store.ts';
import { freshDatabase, openDatabase, type TestDatabase, testRedis } from '../setup/redis.ts';
import { startRedisProcess } from '../setup/redis-process.ts';
import { snapshotStoreConformance } from './snapshot-store.conformance.ts';

// The same suite as LevelDB and memory, against the run's real redis-server (a fresh database per test).
snapshotStoreConformance('RedisSnapshotStore', async () => {
  const db = await freshDatabase();
  const make = () => new RedisSnapshotStore(db.url, { name: 'conformance' });
  const store = make();
  return {
    store,
    reopen: make,
    corrupt: async (actorId, w) => {
      const key = store.keys.snapshots(actorId);
      const frame = await db.client.hgetBuffer(key, String(w));
      frame![frame!.length - 3]! ^= 0x10;
      await db.client.hset(key, String(w), frame!);
    },
    cleanup: () => db.close(),
  };
});

describe('RedisSnapshotStore', () => {
  const dbs: TestDatabase[] = [];
  const stores: RedisSnapshotStore[] = [];
  const database = async () => {
    const db = await freshDatabase();
    dbs.push(db);
    return db;
  };
  const store = (url: string, options: ConstructorParameters<typeof RedisSnapshotStore>[1] = {}) => {
    const s = new RedisSnapshotStore(url, { name: 'app', ...options });
    stores.push(s);
    return s;
  };

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const db of dbs.splice(0)) await db.close();
  });

  it('keeps its lease while open: after several renewals a second open is still refused', async () => {
    const db = await database();
    const first = store(db.url, { leaseMs: 600 });
    await first.open();
    while (first.lock!.renewals < 3) await new Promise((r) => setTimeout(r, 50));
    const error = await store(db.url)
      .open()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect(String((error as Error).cause)).toMatch(/held by .*:\d+:/);
  });

  it('reports a call the server has not answered (paused), and its answer, and loses nothing; a lost connection fails with its own code', async () => {
    const redis = await startRedisProcess();
    try {
      const url = `${redis.url}/0`;
      const warnings: string[] = [];
      const s = store(url, { slowCallMs: 200, onWarning: (m) => warnings.push(m) });
      await s.open();
      await s.saveSnapshot('op', 1, 'before');
      const admin = await openDatabase(url, 0);
      dbs.push(admin);
      await admin.client.call('CLIENT', 'PAUSE', '1000', 'WRITE');
      await s.saveSnapshot('op', 2, 'during');
      expect(warnings[0]).toMatch(
        /: Redis has not answered a write of the snapshot of op at window 2 for 0\.\d s; still waiting$/,
      );
      expect(warnings.at(-1)).toMatch(
        /: Redis answered a write of the snapshot of op at window 2 after 1\.\d s$/,
      );
      expect(await s.loadSnapshot('op', 2)).toBe('during');
      expect(await s.snapshotWindows('op')).toEqual([1, 2]);
      await redis.stop();
      await expect(s.saveSnapshot('op', 3, 'after')).rejects.toMatchObject({
        code: 'SLUICE_STORE_CONNECTION_LOST',
        message: expect.stringMatching(/is not connected .*relaunch on it once Redis is back$/),
      });
      // The lease cannot be released without a connection (it runs out): closing does not fail.
      await s.close();
    } finally {
      for (const s of stores.splice(0)) await s.close().catch(() => {});
      await redis.stop();
    }
  });

  // The window the test above can land in on a loaded machine: the server has closed the socket and
  // ioredis refuses the call before it has seen 'close', its status still 'ready'.
  it('takes a call refused on a closing socket, while ioredis still says ready, for a lost connection', () => {
    const closing = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    expect(connectionGone({ status: 'ready' }, closing)).toBe(true);
    expect(connectionGone({ status: 'ready' }, new Error('Connection is closed.'))).toBe(true);
    expect(connectionGone({ status: 'reconnecting' }, new Error('anything'))).toBe(true);
    expect(connectionGone({ status: 'ready' }, new Error('ERR wrong number of arguments'))).toBe(false);
  });

  it('fences an open whose lease was taken over: its writes fail with SLUICE_STORE_LEASE_LOST and change nothing', async () => {
    const db = await database();
    const stale = store(db.url, { leaseMs: 60_000 });
    await stale.open();
    await stale.saveSnapshot('op', 1, 'before');
    // The lease runs out (the holder was paused or cut off) and another run takes the store.
    await db.client.del(stale.keys.lock);
    const next = store(db.url);
    await next.open();
    for (const write of [
      () => stale.saveSnapshot('op', 2, 'stale'),
      () => stale.putMeta('committedWindow', 99),
      () => stale.deleteSnapshotsBelow('op', 5),
      () => stale.appendWindowLog('in', 2, { counts: [1] }),
    ]) {
      await expect(write()).rejects.toMatchObject({ code: 'SLUICE_STORE_LEASE_LOST' });
    }
    expect(await next.snapshotWindows('op')).toEqual([1]);
    expect(await next.getMeta('committedWindow')).toBeUndefined();
    expect(await next.readWindowLog('in', 0, 10)).toEqual(new Map());
    // Closing the stale instance does not release the new holder's lock.
    await stale.close();
    await expect(store(db.url).open()).rejects.toBeInstanceOf(StoreLockedError);
  });

  it('waits for a dead holder’s lease to run out when lockWaitMs allows it', async () => {
    const db = await database();
    // A holder killed without releasing: only its lease key is left, with a short expiry.
    await db.client.set('{app}:lock', 'dead-host:1:0', 'PX', 300);
    const next = store(db.url, { lockWaitMs: 30_000 });
    await next.open();
    expect(await db.client.get('{app}:lock')).toBe(next.lock!.token);
  });

  it('reports a Redis it cannot reach as SLUICE_STORE_UNREACHABLE, naming the store', async () => {
    const { freePort } = await import('../setup/redis-process.ts');
    const unreachable = store(`redis://127.0.0.1:${await freePort()}/0`);
    const error = await unreachable.open().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SLUICE_STORE_UNREACHABLE' });
    expect((error as Error).message).toMatch(
      /Cannot connect to the Redis snapshot store at redis:\/\/127\.0\.0\.1:\d+\/0 .*ECONNREFUSED/,
    );
  });

  it('keeps stores with different names apart in one database, and says where it is without the password', async () => {
    const db = await database();
    const a = store(db.url, { name: 'a' });
    const b = new RedisSnapshotStore(`${db.url}?name=b`);
    stores.push(b);
    expect(b.name).toBe('b');
    const named = new RedisSnapshotStore('redis://:hunter2@127.0.0.1:1/3?name=x');
    expect(named.location).not.toMatch(/hunter2/);
    expect(named.location).toMatch(/\{x\}/);
    await a.open();
    await b.open();
    await a.saveSnapshot('op', 1, 'a');
    await b.saveSnapshot('op', 1, 'b');
    expect(await a.loadSnapshot('op', 1)).toBe('a');
    expect(await b.loadSnapshot('op', 1)).toBe('b');
  });
});

describe('RedisSnapshotStore database', () => {
  it('refuses a database the server does not have, or a path that names none, instead of using database 0', async () => {
    const { url } = testRedis();
    for (const [path, problem] of [
      ['/4000', /cannot select database 4000 \(ERR DB index is out of range\)/],
      ['/abc', /names no database/],
    ] as const) {
      const error = await new RedisSnapshotStore(`${url}${path}`).open().then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.code).toBe('SLUICE_REDIS_CONFIG');
      expect(error?.message).toMatch(problem);
    }
  });

  it('refuses a password the server does not take as configuration (SLUICE_REDIS_CONFIG), not as an unreachable server', async () => {
    const { url } = testRedis();
    const admin = await openDatabase(`${url}/0`, 0);
    try {
      await admin.client.call('ACL', 'SETUSER', 'sluice-store-auth', 'on', '>right-password', '~*', '+@all');
      const wrong = url.replace('redis://', 'redis://sluice-store-auth:wrong-password@');
      const error = await new RedisSnapshotStore(`${wrong}/1`).open().then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.code).toBe('SLUICE_REDIS_CONFIG');
      expect(error?.message).toMatch(/refused to authenticate \(WRONGPASS/);
      expect(error?.message).not.toContain('wrong-password');
    } finally {
      await admin.client.call('ACL', 'DELUSER', 'sluice-store-auth');
      await admin.close();
    }
  });
});
