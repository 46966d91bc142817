import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { RedisRetryEvent } from '../../actors/index.ts';
import { FencedOutputError } from '../../src/index.ts';
import { freshDatabase, openDatabase, type TestDatabase } from '../setup/redis.ts';
import { freePort, startRedisProcess } from '../setup/redis-process.ts';
import { record, startOutput } from './redis-output-kit.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  return db;
}

test('a window lands as one hash per key plus the window id; a relaunched instance skips the windows applied', async () => {
  const db = await database();
  const a = await startOutput({ url: db.url, prefix: 'p' }, 100);
  await a.window(1, [record('k1', 1, 50), record('k2', 1, 80)]);
  await a.window(2, [record('k1', 2, 60)]);
  await a.op.teardown();

  expect(await db.client.hgetall('p:avg:k1')).toEqual({
    cpu: '60',
    ram: '30',
    hdd: '10',
    count: '3',
    window: '2',
  });
  expect(await db.client.hgetall('p:avg:k2')).toEqual({
    cpu: '80',
    ram: '40',
    hdd: '10',
    count: '3',
    window: '1',
  });
  expect(await db.client.get('p:last-window:averages-out')).toBe('2');
  expect(await db.client.get('p:fence:averages-out')).toBe('100');

  // The relaunch replays window 2 (restored from an older checkpoint) with the same records: skipped.
  // Different values here make a second apply visible.
  const b = await startOutput({ url: db.url, prefix: 'p' }, 101);
  cleanups.push(() => b.op.teardown());
  await b.window(2, [record('k1', 2, 99)]);
  expect(await db.client.hget('p:avg:k1', 'cpu')).toBe('60');
  await b.window(3, [record('k1', 3, 70)]);
  expect(await db.client.hget('p:avg:k1', 'cpu')).toBe('70');
  expect(await db.client.get('p:last-window:averages-out')).toBe('3');
  expect(await db.client.get('p:fence:averages-out')).toBe('101');
});

test('an instance of an older epoch is refused once a newer one claimed the output, and writes nothing', async () => {
  const db = await database();
  const old = await startOutput({ url: db.url, prefix: 'f' }, 5);
  cleanups.push(() => old.op.teardown());
  const replacement = await startOutput({ url: db.url, prefix: 'f' }, 6);
  cleanups.push(() => replacement.op.teardown());

  await expect(old.window(1, [record('late', 1, 90)])).rejects.toBeInstanceOf(FencedOutputError);
  expect(await db.client.exists('f:avg:late')).toBe(0);
  expect(await db.client.get('f:last-window:averages-out')).toBeNull();

  await replacement.window(1, [record('k', 1, 40)]);
  expect(await db.client.hget('f:avg:k', 'cpu')).toBe('40');
  // An instance of an older epoch cannot even start.
  await expect(startOutput({ url: db.url, prefix: 'f' }, 4)).rejects.toBeInstanceOf(FencedOutputError);
});

test('a window of thousands of keys lands whole, every hash as written (a thousand keys to a script)', async () => {
  const db = await database();
  const out = await startOutput({ url: db.url, prefix: 'w' }, 7);
  const records = Array.from({ length: 2_345 }, (_, i) => record(`k${i}`, 1, i % 101));
  await out.window(1, records);
  await out.op.teardown();
  expect(await db.client.dbsize()).toBe(2_345 + 2); // the hashes, the last window, the fence
  for (const i of [0, 999, 1_000, 1_001, 2_344]) {
    expect(await db.client.hgetall(`w:avg:k${i}`)).toEqual({
      cpu: String(i % 101),
      ram: String((i % 101) / 2),
      hdd: '10',
      count: '3',
      window: '1',
    });
  }
  expect(await db.client.get('w:last-window:averages-out')).toBe('1');
});

test('windows without records write nothing, not even their id', async () => {
  const db = await database();
  const out = await startOutput({ url: db.url, prefix: 'e' }, 1);
  cleanups.push(() => out.op.teardown());
  await out.window(1, []);
  expect(await db.client.keys('e:avg:*')).toEqual([]);
  expect(await db.client.get('e:last-window:averages-out')).toBeNull();
});

test('Redis restarted during an apply: the apply retries with backoff, reports it, and lands once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-restart-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let redis = await startRedisProcess({ persistDir: dir });
  cleanups.push(() => redis.stop());
  const url = `${redis.url}/0`;
  const events: RedisRetryEvent[] = [];
  const out = await startOutput(
    { url, prefix: 'r', onRetry: (e) => events.push(e), backoff: { maxMs: 100 } },
    7,
  );
  cleanups.push(() => out.op.teardown());
  await out.window(1, [record('k', 1, 10)]);

  await redis.stop();
  const applying = out.window(2, [record('k', 2, 20)]);
  // Redis comes back once the output has noticed (and reported) that it is gone.
  while (!events.some((e) => e.type === 'retrying')) await new Promise((r) => setTimeout(r, 10));
  redis = await startRedisProcess({ port: redis.port, persistDir: dir });
  await applying;

  expect(events.at(-1)).toMatchObject({ type: 'recovered', operation: 'MULTI/EXEC' });
  // The same, as the operator's metrics (what /metrics and the progress line read).
  expect(out.op.redisRetries.value).toBeGreaterThan(0);
  expect(out.op.redisDown.value).toBe(0);
  const db = await openDatabase(url, 0);
  cleanups.push(() => db.close());
  expect(await db.client.hgetall('r:avg:k')).toMatchObject({ cpu: '20', window: '2' });
  expect(await db.client.get('r:last-window:averages-out')).toBe('2');
  // Window 2 again (a replay after a failure): skipped, the data stays what window 2 wrote.
  await out.window(2, [record('k', 2, 99)]);
  expect(await db.client.hget('r:avg:k', 'cpu')).toBe('20');
});

test('Redis paused during an apply: reported as not answering (no retry: the call may yet land), then lands once', async () => {
  const redis = await startRedisProcess();
  cleanups.push(() => redis.stop());
  const url = `${redis.url}/0`;
  const events: RedisRetryEvent[] = [];
  const out = await startOutput({ url, prefix: 'p', onRetry: (e) => events.push(e) }, 5);
  cleanups.push(() => out.op.teardown());
  await out.window(1, [record('k', 1, 10)]);
  const admin = await openDatabase(url, 0);
  cleanups.push(() => admin.close());
  await admin.client.call('CLIENT', 'PAUSE', '6500', 'ALL');
  const applying = out.window(2, [record('k', 2, 20)]);
  while (!events.some((e) => e.type === 'waiting')) await new Promise((r) => setTimeout(r, 50));
  expect(events[0]).toMatchObject({ type: 'waiting', operation: 'MULTI/EXEC' });
  expect(out.op.redisDown.value).toBe(1); // what the progress line and /metrics read meanwhile
  await applying;
  expect(events.map((e) => e.type)).toEqual(['waiting', 'recovered']);
  expect(out.op.redisDown.value).toBe(0);
  expect(out.op.redisRetries.value).toBe(0);
  expect(await admin.client.hgetall('p:avg:k')).toMatchObject({ cpu: '20', window: '2' });
  expect(await admin.client.get('p:last-window:averages-out')).toBe('2');
}, 20_000);

test('Redis down when the output starts: setup waits for it; never there: a clear SLUICE_REDIS_UNAVAILABLE', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  const events: RedisRetryEvent[] = [];
  const starting = startOutput({ url, prefix: 's', onRetry: (e) => events.push(e) }, 3);
  while (!events.some((e) => e.type === 'retrying')) await new Promise((r) => setTimeout(r, 10));
  const redis = await startRedisProcess({ port });
  cleanups.push(() => redis.stop());
  const out = await starting;
  cleanups.push(() => out.op.teardown());
  expect(events.at(-1)).toMatchObject({ type: 'recovered', operation: 'connect' });
  await out.window(1, [record('k', 1, 5)]);
  const db = await openDatabase(url, 0);
  cleanups.push(() => db.close());
  expect(await db.client.hget('s:avg:k', 'cpu')).toBe('5');

  const nowhere = `redis://127.0.0.1:${await freePort()}/0`;
  await expect(
    startOutput({ url: nowhere, connectTimeoutMs: 300, onRetry: () => {} }, 1),
  ).rejects.toMatchObject({
    code: 'SLUICE_REDIS_UNAVAILABLE',
  });
});

test('a setup waiting for Redis gives up at once when the run is asked to stop (its stop signal)', async () => {
  const nowhere = `redis://127.0.0.1:${await freePort()}/0`;
  const stop = new AbortController();
  const starting = startOutput({ url: nowhere, connectTimeoutMs: 60_000, onRetry: () => {} }, 1, stop.signal);
  await new Promise((r) => setTimeout(r, 200));
  const asked = performance.now();
  stop.abort();
  await expect(starting).rejects.toMatchObject({ code: 'SLUICE_STOPPED' });
  // Not the 60 s connect timeout (a generous bound for a loaded machine, not a timing).
  expect(performance.now() - asked).toBeLessThan(5_000);
});
