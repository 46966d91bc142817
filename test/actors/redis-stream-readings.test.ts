import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import {
  type BadReading,
  Collected,
  CollectSink,
  RedisAverageOutput,
  RedisConfigError,
  type RedisRetryEvent,
  RedisStreamReadings,
  type RedisStreamReadingsProps,
  readingToFields,
} from '../../actors/index.ts';
import type { Reading } from '../../actors/machine-data/types.ts';
import { explain } from '../../src/cli/errors.ts';
import { application, launch, Operator } from '../../src/index.ts';
import { freshDatabase, openDatabase, testRedis } from '../setup/redis.ts';
import { startRedisProcess } from '../setup/redis-process.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function reading(i: number): Reading {
  return {
    customer: 1 + (i % 5),
    product: 4 + (i % 3),
    os: 10 + (i % 3),
    software1: 10 + (i % 3),
    software2: 12 + (i % 3),
    software3: 4 + (i % 3),
    device: 1 + (i % 50),
    cpu: i % 101,
    ram: (i * 7) % 101,
    hdd: (i * 13) % 101,
    minute: i % 1440,
    day: 20_000,
  };
}

async function append(
  client: import('ioredis').Redis,
  stream: string,
  from: number,
  to: number,
): Promise<void> {
  const p = client.pipeline();
  for (let i = from; i < to; i++) p.xadd(stream, '*', ...readingToFields(reading(i)));
  await p.exec();
}

function readingsApp(
  props: RedisStreamReadingsProps,
  into: Collected<Reading>,
  errors = new Collected<BadReading>(),
) {
  return application('stream-readings-test', (dag) => {
    const src = dag.add('readings', RedisStreamReadings, props);
    const sink = dag.add('sink', CollectSink<Reading>, { into });
    const bad = dag.add('bad', CollectSink<BadReading>, { into: errors });
    dag.stream('readings', src.out, sink.in);
    dag.stream('errors', src.errors, bad.in);
  });
}

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('every entry is read once, in stream order, readingsPerWindow of them in each window', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  await append(db.client, 'readings', 0, 500);
  const into = new Collected<Reading>();
  const app = readingsApp({ url: `${db.url}#readings`, readingsPerWindow: 50 }, into);
  const run = await launch(app, {
    store: join(tempDir('readings'), 'store'),
    streamingWindowMs: 20,
    windows: 12,
  });
  await run.done;

  expect(into.all()).toEqual(Array.from({ length: 500 }, (_, i) => reading(i)));
  for (let w = 1; w <= 10; w++) expect(into.windows.get(w)?.length, `window ${w}`).toBe(50);
});

test('a relaunch on the same store reads on from the stored offset: nothing twice, nothing skipped', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  await append(db.client, 'r', 0, 300);
  const store = join(tempDir('relaunch'), 'store');
  const into = new Collected<Reading>();
  const props = { url: db.url, stream: 'r', readingsPerWindow: 20 };
  const first = await launch(readingsApp(props, into), { store, streamingWindowMs: 20, windows: 6 });
  await first.done;
  expect(into.all()).toHaveLength(120);
  await append(db.client, 'r', 300, 400); // the stream grew while the application was down

  const again = await launch(readingsApp(props, into), { store, streamingWindowMs: 20, windows: 25 });
  await again.done;
  expect(into.all()).toEqual(Array.from({ length: 400 }, (_, i) => reading(i)));
});

test('countWindows: each window waits for its readingsPerWindow entries from a stream written slower than the windows; the end of the stream ends the windows', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  // 30 entries a window of 20 ms, written 10 every 40 ms (a window's worth every 120 ms), 300 in all.
  let written = 0;
  const writer = (async () => {
    while (written < 300) {
      await append(db.client, 'slow', written, written + 10);
      written += 10;
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  const into = new Collected<Reading>();
  const props = {
    url: `${db.url}#slow`,
    readingsPerWindow: 30,
    countWindows: true,
    countWindowsIdleMs: 1000,
  };
  // 13 windows: 10 full ones, then the stream has ended: windows 11–13 close on the clock once it was
  // idle for a second (without that, a finite stream would hold window 11 for ever).
  const run = await launch(readingsApp(props, into), {
    store: join(tempDir('count-windows'), 'store'),
    streamingWindowMs: 20,
    windows: 13,
  });
  await run.done;
  await writer;
  expect(into.all()).toEqual(Array.from({ length: 300 }, (_, i) => reading(i)));
  for (let w = 1; w <= 10; w++) expect(into.windows.get(w)?.length, `window ${w}`).toBe(30);
  expect(() => new RedisStreamReadings({ url: `${db.url}#slow`, countWindows: true })).toThrow(
    /countWindows needs readingsPerWindow/,
  );
});

test('countWindows: windows wait for the first entry however long; after an idle spell the next window takes its quota, not a share for every idle window', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  const into = new Collected<Reading>();
  const props = {
    url: `${db.url}#later`,
    readingsPerWindow: 30,
    countWindows: true,
    countWindowsIdleMs: 300,
  };
  const run = await launch(readingsApp(props, into), {
    store: join(tempDir('count-idle'), 'store'),
    streamingWindowMs: 20,
  });
  // Nothing in the stream for 3 idle bounds: window 1 waits (copies started before the producer agree).
  await new Promise((r) => setTimeout(r, 900));
  expect(into.lastWindow).toBe(0);
  await append(db.client, 'later', 0, 90);
  await until(() => into.all().length === 90, '90 readings');
  expect([...into.windows.values()].map((t) => t.length)).toEqual([30, 30, 30]);
  // Idle past the bound: windows close on the clock, empty; then 60 more arrive: two windows of 30.
  await new Promise((r) => setTimeout(r, 900));
  const idleWindows = into.lastWindow;
  await append(db.client, 'later', 90, 150);
  await until(() => into.all().length === 150, '150 readings');
  run.stop();
  await run.done;
  expect(into.all()).toEqual(Array.from({ length: 150 }, (_, i) => reading(i)));
  expect([...into.windows.values()].map((t) => t.length)).toEqual([30, 30, 30, 30, 30]);
  expect(idleWindows).toBeGreaterThanOrEqual(3);
});

test('nothing read ahead: emitTuples() says it is waiting, and the read that lands wakes the scheduler', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  let wakes = 0;
  const op = new RedisStreamReadings({ url: db.url, stream: 'later', blockMs: 50 });
  const got: Reading[] = [];
  op.out.emit = (r) => got.push(r);
  op.state = op.initialState();
  await op.setup({
    operatorName: 'readings',
    actorId: 'readings',
    partition: 0,
    partitions: 1,
    applicationName: 'wake-test',
    streamingWindowMs: 100,
    applicationWindowCount: 1,
    windowId: 1,
    windowStartMs: 0,
    epoch: 1,
    wake: () => wakes++,
  });
  cleanups.push(() => op.teardown());
  op.beginWindow();
  // The stream is empty: the call emits nothing and returns false (the runtime then sleeps, not spins).
  expect(op.emitTuples()).toBe(false);
  expect(op.emitTuples()).toBe(false);
  expect(wakes).toBe(0);
  // All five in one transaction, so that one read gets them all.
  const tx = db.client.multi();
  for (let i = 0; i < 5; i++) tx.xadd('later', '*', ...readingToFields(reading(i)));
  await tx.exec();
  await until(() => wakes > 0, 'the read to wake the scheduler');
  expect(wakes).toBe(1);
  expect(op.emitTuples()).toBe(true);
  expect(got).toEqual(Array.from({ length: 5 }, (_, i) => reading(i)));
  expect(op.state).toMatchObject({ entries: 5 });
});

/** Passes readings on; throws once, at the start of window `failAt` (a failure the runtime recovers from). */
class FailOnce extends Operator<{}, { failAt: number; failed: { done: boolean } }> {
  readonly out = this.output<Reading>();
  readonly in = this.input<Reading>((r) => this.out.emit(r));
  override beginWindow(w: number): void {
    if (w === this.props.failAt && !this.props.failed.done) {
      this.props.failed.done = true;
      throw new Error('injected failure');
    }
  }
}

test('a recovery replays from the checkpoint offset, several times the read-ahead: nothing lost or repeated', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  await append(db.client, 'long', 0, 3000);
  const into = new Collected<Reading>();
  const failed = { done: false };
  // Read ahead 64 entries, 32 per XREAD (a window then takes about what is read ahead when it starts);
  // checkpoints every 10 windows; the failure at window 18 makes every actor restart from window 10 and
  // the source replay windows 11–17, several times what it reads ahead.
  const app = application('replay-test', (dag) => {
    const src = dag.add('readings', RedisStreamReadings, {
      url: db.url,
      stream: 'long',
      readingsPerWindow: 100,
      fetchCount: 32,
      prefetch: 64,
    });
    const mid = dag.add('fail-once', FailOnce, { failAt: 18, failed });
    const sink = dag.add('sink', CollectSink<Reading>, { into });
    dag.stream('readings', src.out, mid.in);
    dag.stream('passed', mid.out, sink.in);
  });
  const run = await launch(app, {
    store: join(tempDir('replay'), 'store'),
    streamingWindowMs: 20,
    windows: 30,
    checkpointWindowCount: 10,
    replayFrom: 'sources',
  });
  await run.done;
  expect(failed.done).toBe(true);
  expect(run.stats().restarts).toBeGreaterThan(0);
  let replayed = 0;
  for (let w = 11; w <= 17; w++) replayed += into.windows.get(w)?.length ?? 0;
  expect(replayed).toBeGreaterThan(3 * 64);
  const all = into.all();
  expect(all).toEqual(Array.from({ length: all.length }, (_, i) => reading(i)));
});

test('malformed entries go to the errors port, counted, and the readings around them flow on', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  const s = 'mixed';
  await db.client.xadd(s, '1-1', ...readingToFields(reading(1)));
  const noCpu = readingToFields(reading(2)).filter((_, i, a) => a[i - (i % 2)] !== 'cpu');
  await db.client.xadd(s, '1-2', ...noCpu);
  await db.client.xadd(s, '1-3', ...readingToFields({ ...reading(3), device: 51 }));
  await db.client.xadd(
    s,
    '1-4',
    ...readingToFields(reading(4)).map((v, i, a) => (a[i - 1] === 'ram' ? 'lots' : v)),
  );
  await db.client.xadd(s, '1-5', 'hello', 'world');
  await db.client.xadd(s, '1-6', ...readingToFields(reading(6)));

  const into = new Collected<Reading>();
  const errors = new Collected<BadReading>();
  const store = join(tempDir('malformed'), 'store');
  const run = await launch(readingsApp({ url: db.url, stream: s }, into, errors), {
    store,
    streamingWindowMs: 20,
    windows: 5,
  });
  await run.done;

  expect(into.all()).toEqual([reading(1), reading(6)]);
  expect(errors.all().map((e) => [e.id, e.reason])).toEqual([
    ['1-2', 'cpu: missing'],
    ['1-3', 'device: 51 outside 1–50 (an integer)'],
    ['1-4', 'ram: not a number ("lots")'],
    ['1-5', 'customer: missing'],
  ]);
  expect(errors.all()[3]!.fields).toEqual({ hello: 'world' });
  const readings = run.metrics().operators.find((o) => o.operator === 'readings');
  expect(readings?.custom.rejected_readings?.value).toBe(4);
});

test('Redis restarted mid-run: the source reports it, retries from the same id, and loses or repeats nothing', async () => {
  const dir = tempDir('redis-data');
  let redis = await startRedisProcess({ persistDir: dir });
  cleanups.push(() => redis.stop());
  const url = `${redis.url}/0`;
  const writer = await openDatabase(url, 0);
  cleanups.push(() => writer.close());
  await append(writer.client, 's', 0, 200);

  const into = new Collected<Reading>();
  const events: RedisRetryEvent[] = [];
  const props = {
    url,
    stream: 's',
    onRetry: (e: RedisRetryEvent) => events.push(e),
    backoff: { maxMs: 100 },
  };
  const run = await launch(readingsApp(props, into), {
    store: join(tempDir('restart'), 'store'),
    streamingWindowMs: 20,
  });
  cleanups.push(() => run.stop());
  await until(() => into.all().length === 200, 'the first 200 readings');

  await redis.stop();
  await until(() => events.some((e) => e.type === 'retrying'), 'a retry report');
  redis = await startRedisProcess({ port: redis.port, persistDir: dir });
  await writer.client.ping().catch(() => {}); // ioredis reconnects on its own
  await until(async () => (await writer.client.ping().catch(() => '')) === 'PONG', 'the writer to reconnect');
  await append(writer.client, 's', 200, 400);
  await until(() => into.all().length >= 400, 'all 400 readings');
  await run.stop();

  expect(into.all()).toEqual(Array.from({ length: 400 }, (_, i) => reading(i)));
  expect(events.some((e) => e.type === 'recovered' && e.operation === 'XREAD')).toBe(true);
});

test('props that cannot work are refused by dag.add, before anything runs (not restarted for minutes)', () => {
  const add = (props: RedisStreamReadingsProps) =>
    application('bad-redis-props', (dag) => {
      dag.add('readings', RedisStreamReadings, props);
    }).dag();
  expect(() => add({ url: 'redis://127.0.0.1:6379/0' })).toThrow(RedisConfigError);
  expect(() => add({ url: 'redis://127.0.0.1:6379/0' })).toThrow(/no stream/);
  expect(() => add({ url: 'http://127.0.0.1:6379/0#readings' })).toThrow(
    /expected redis:\/\/host:port\/db#stream/,
  );
  expect(() => add({ url: 'not a url#readings' })).toThrow(RedisConfigError);
  // A stream named by props, or a fragment that is no valid escape, is fine.
  expect(() => add({ url: 'redis://127.0.0.1:6379/0', stream: 'readings' })).not.toThrow();
  expect(() => add({ url: 'redis://127.0.0.1:6379/0#r%' })).not.toThrow();
  // The output's constructor is what dag.add calls (its input port wants a stream to be a DAG).
  const out = (url: string) => new RedisAverageOutput({ url });
  expect(() => out('http://x')).toThrow(RedisConfigError);
  expect(() => out('redis://user:secret@:6379/1')).not.toThrow();
  expect(() => out('redis://user:secret@x')).not.toThrow();
  let message = '';
  try {
    out('http://user:secret@x');
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain('***');
  expect(message).not.toContain('secret');
});

test('a URL whose path is no database number is refused by dag.add', () => {
  const out = (url: string) => () => new RedisAverageOutput({ url });
  expect(out('redis://127.0.0.1:6379/abc')).toThrow(
    /names no database: after host:port comes a database number/,
  );
  expect(out('redis://127.0.0.1:6379/1/2')).toThrow(RedisConfigError);
  expect(() => new RedisStreamReadings({ url: 'redis://127.0.0.1:6379/x#readings' })).toThrow(
    /names no database/,
  );
  expect(out('redis://127.0.0.1:6379')).not.toThrow();
  expect(out('redis://127.0.0.1:6379/')).not.toThrow();
});

test('a database the server does not have (it has 1,024 here) fails the run at once, and nothing lands in database 0', async () => {
  const { url } = testRedis();
  const zero = await openDatabase(`${url}/0`, 0);
  cleanups.push(() => zero.close());
  await zero.client.del('past-the-end');
  const into = new Collected<Reading>();
  const printed: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  cleanups.push(() => spy.mockRestore());
  const run = await launch(readingsApp({ url: `${url}/4000#past-the-end` }, into), {
    store: join(tempDir('bad-db'), 'store'),
    windows: 3,
  });
  const error = await run.done.then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
  expect(error?.code).toBe('SLUICE_REDIS_CONFIG');
  expect(error?.message).toMatch(
    /database 4000 of redis:\/\/.*cannot be selected \(ERR DB index is out of range\)/,
  );
  expect(await zero.client.exists('past-the-end')).toBe(0);
  // A configuration error, not an outage: no "retrying with backoff" line first.
  expect(printed.filter((l) => /retrying/.test(l))).toEqual([]);
});

test('a password the server refuses fails the run at once as configuration (exit 2 under sluice run), not after 30 s of retries', async () => {
  const { url } = testRedis();
  // An ACL user of this test's own: the server's default user stays open for the other tests.
  const admin = await openDatabase(`${url}/0`, 0);
  cleanups.push(() => admin.close());
  await admin.client.call('ACL', 'SETUSER', 'sluice-auth-test', 'on', '>right-password', '~*', '+@all');
  cleanups.push(() => admin.client.call('ACL', 'DELUSER', 'sluice-auth-test').then(() => {}));
  const printed: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  cleanups.push(() => spy.mockRestore());
  const wrong = url.replace('redis://', 'redis://sluice-auth-test:wrong-password@');
  const started = Date.now();
  const run = await launch(
    readingsApp({ url: `${wrong}/1#auth`, connectTimeoutMs: 30_000 }, new Collected()),
    {
      store: join(tempDir('bad-auth'), 'store'),
      windows: 3,
    },
  );
  const error = await run.done.then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(error?.code).toBe('SLUICE_REDIS_CONFIG');
  expect(error?.message).toMatch(/refused to authenticate \(WRONGPASS/);
  expect(error?.message).toContain('redis://sluice-auth-test:***@');
  expect(error?.message).not.toContain('wrong-password');
  expect(explain(error).exitCode).toBe(2);
  expect(printed.filter((l) => /retrying/.test(l))).toEqual([]);
});

test('a stream key that holds another type fails the run at once with the reply, not after retrying for minutes', async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  await db.client.set('not-a-stream', 'x');
  const run = await launch(readingsApp({ url: `${db.url}#not-a-stream` }, new Collected<Reading>()), {
    store: join(tempDir('wrongtype'), 'store'),
    windows: 3,
  });
  const started = Date.now();
  const error = await run.done.then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
  expect(error?.code).toBe('SLUICE_REDIS_CONFIG');
  expect(error?.message).toMatch(/XREAD failed: WRONGTYPE/);
  expect(Date.now() - started).toBeLessThan(10_000); // no restarts: a retry meets the same key
});
