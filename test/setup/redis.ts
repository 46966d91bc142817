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

/** Every key of a database with its value (hashes with sorted fields), for comparing two databases. */
export async function dumpDatabase(client: Redis, skip: (key: string) => boolean = () => false) {
  const keys = (await client.keys('*')).filter((k) => !skip(k)).sort();
  const types = await pipelined(client, keys, (p, k) => void p.type(k));
  const values = await pipelined(client, keys, (p, k, i) => {
    const type = types[i];
    if (type === 'hash') p.hgetall(k);
    else if (type === 'string') p.get(k);
    else if (type === 'list') p.lrange(k, 0, -1);
    else if (type === 'stream') p.xrange(k, '-', '+');
    else p.type(k);
  });
  const out = new Map<string, unknown>();
  keys.forEach((key, i) => {
    const v = values[i];
    const sorted = types[i] === 'hash' && v && typeof v === 'object' && !Array.isArray(v);
    out.set(key, sorted ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v);
  });
  return out;
}

/** One pipeline of one command per key (in chunks), the replies in key order; a reply error throws. */
async function pipelined(
  client: Redis,
  keys: readonly string[],
  add: (p: ReturnType<Redis['pipeline']>, key: string, i: number) => void,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let from = 0; from < keys.length; from += 5_000) {
    const p = client.pipeline();
    for (let i = from; i < Math.min(keys.length, from + 5_000); i++) add(p, keys[i]!, i);
    for (const [e, v] of (await p.exec()) ?? []) {
      if (e) throw e;
      out.push(v);
    }
  }
  return out;
}
