import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { readingToFields } from '../../actors/index.ts';
import { exited } from '../recovery/kill-loop.ts';
import { dumpDatabase, freshDatabase, type TestDatabase } from '../setup/redis.ts';
import { append, reading, redisApp, startApp, workDir } from './redis-kit.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  return db;
}

const notFence = (key: string) => key.includes(':fence:') || key === 'applied';

test('SIGKILL right after a window’s EXEC, before its checkpoint: relaunched, every window is applied once and Redis equals an undisturbed run', async () => {
  const work = workDir('redis-exec-kill');
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const [source, reference, killed] = [await database(), await database(), await database()];
  // 30 windows of 40 readings, all there before the start, and a bad entry the rejected-files catch.
  await append(source.client, 'readings', 0, 600);
  await source.client.xadd('readings', '*', ...readingToFields({ ...reading(600), cpu: 101 }));
  await append(source.client, 'readings', 601, 1400);

  const env = (db: TestDatabase, name: string) => ({
    READINGS_STREAM: `${source.url}#readings`,
    REDIS_URL: db.url,
    APPLIED_LIST: 'applied',
    BAD_OUT: join(work, `bad-${name}`),
    KILL_MARKER: join(work, `killed-${name}`),
  });
  const run = (db: TestDatabase, name: string, extra: Record<string, string> = {}) =>
    exited(
      startApp(redisApp, {
        store: join(work, `store-${name}`),
        windows: 30,
        windowMs: 30,
        env: { ...env(db, name), ...extra },
      }),
    );

  const [ref, first] = await Promise.all([
    run(reference, 'ref'),
    run(killed, 'killed', { KILL_AFTER_APPLY: '12' }),
  ]);
  expect(ref.code, ref.stderr).toBe(0);
  expect(first.signal, first.stderr).toBe('SIGKILL');
  expect(existsSync(join(work, 'killed-killed'))).toBe(true);
  expect(await killed.client.get('machine-data:last-window:redis-out')).toBe('12');

  const again = await run(killed, 'killed', { KILL_AFTER_APPLY: '12' });
  expect(again.code, again.stderr).toBe(0);

  const applied = (await killed.client.lrange('applied', 0, -1)).map(Number);
  expect(applied).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
  expect(await dumpDatabase(killed.client, notFence)).toEqual(await dumpDatabase(reference.client, notFence));
  expect((await dumpDatabase(reference.client, notFence)).size).toBeGreaterThan(50);
  // The malformed entry was rejected once, in both runs.
  for (const name of ['ref', 'killed']) {
    const dir = join(work, `bad-${name}`);
    const lines = readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
    expect(
      lines.map((l) => JSON.parse(l).reason),
      name,
    ).toEqual(['cpu: 101 outside 0–100']);
  }
}, 120_000); // ~5 s idle; the limit is for a loaded machine
