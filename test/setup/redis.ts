/**
 * Helpers for tests against the run's redis-server (started by the globalSetup in redis-server.ts):
 *
 *     const db = await freshDatabase();     // a database no other test file uses, empty
 *     db.url;                                // 'redis://127.0.0.1:PORT/7'
 *     await db.client.xadd(...);             // an ioredis client on it
 *     await db.close();
 *
 * Fails (never skips) with the setup's reason when redis-server is missing.
 */
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { TEST_DATABASES } from './redis-server.ts';

export function testRedis(): { port: number; url: string } {
  const provided = inject('redis');
  if (provided === undefined) {
    throw new Error('no Redis was provided: is test/setup/redis-server.ts in vitest.config.ts globalSetup?');
  }
  if (provided.error !== undefined) throw new Error(provided.error);
  return provided;
}

export interface TestDatabase {
  db: number;
  url: string;
  client: Redis;
  close(): Promise<void>;
}

/**
 * Takes the next unused database (a counter in database 0, so test files in parallel workers never get
 * the same one) and empties it.
 */
export async function freshDatabase(): Promise<TestDatabase> {
  const { url } = testRedis();
  const counter = new Redis(`${url}/0`, { lazyConnect: true });
  await counter.connect();
  const db = await counter.incr('sluice-test:next-db');
  await counter.quit();
  if (db >= TEST_DATABASES) throw new Error(`out of test databases (${TEST_DATABASES})`);
  return openDatabase(`${url}/${db}`, db, true);
}

export async function openDatabase(url: string, db: number, flush = false): Promise<TestDatabase> {
  const client = new Redis(url, { lazyConnect: true });
  // A test that stops Redis on purpose sees the reconnect attempts fail: not an unhandled error.
  client.on('error', () => {});
  await client.connect();
  if (flush) await client.flushdb();
  return {
    db,
    url,
    client,
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Every key of a database with its value (hashes as sorted field lists), for comparing two databases. */
export async function dumpDatabase(client: Redis, skip: (key: string) => boolean = () => false) {
  const out = new Map<string, unknown>();
  const keys = (await client.keys('*')).filter((k) => !skip(k)).sort();
  for (const key of keys) {
    const type = await client.type(key);
    if (type === 'hash') {
      const h = await client.hgetall(key);
      out.set(key, Object.fromEntries(Object.entries(h).sort(([a], [b]) => (a < b ? -1 : 1))));
    } else if (type === 'string') out.set(key, await client.get(key));
    else if (type === 'list') out.set(key, await client.lrange(key, 0, -1));
    else if (type === 'stream') out.set(key, await client.xrange(key, '-', '+'));
    else out.set(key, `<${type}>`);
  }
  return out;
}
