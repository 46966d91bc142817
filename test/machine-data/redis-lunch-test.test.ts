import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { exited } from '../recovery/kill-loop.ts';
import { dumpDatabase, freshDatabase, type TestDatabase } from '../setup/redis.ts';
import { startSmtpServer } from '../setup/smtp-server.ts';
import { append, growStream, repoRoot, startApp, whenKeyReaches, workDir } from './redis-kit.ts';

/**
 * The lunch test with Redis on both ends: two copies of the case study (examples/machine-data/app.ts,
 * 64 dimensions, two partitions) read the same growing Redis stream into
 * two Redis databases; copy B is killed with SIGKILL (the whole `sluice run` process) and started again
 * after a pause, per the schedule, while a writer keeps appending. Once both ran their windows, the two
 * databases hold the same keys with the same values (the fence keys aside: each copy has its epochs),
 * and every alert reached the (real, loopback) SMTP server once from each copy: the same Message-IDs.
 *
 * Why the copies agree although windows are cut by the clock: the source takes a fixed number of entries
 * per window (readingsPerWindow, owed in state) from a stream that stays ahead of it, so every window
 * holds the same entries in both copies, killed or not (docs/redis.md, "Deterministic windows").
 */
export interface KillStep {
  /** Kill once the copy has applied this window (its last-window key reached it). */
  atWindow: number;
  /** How long the copy stays down before it is started again. */
  pauseMs: number;
}

const WINDOWS = 45;

/** The application both copies run, and how it is told where to read, write and mail. */
interface AppUnderTest {
  path: string;
  /** The output's last-window key (how far a copy has got). */
  lastWindowKey: string;
  env(o: { copy: string; work: string; stream: string; redis: string; smtp: string }): Record<string, string>;
}

const caseStudy: AppUnderTest = {
  path: join(repoRoot, 'examples', 'machine-data', 'app.ts'),
  lastWindowKey: 'machine-data:last-window:averages',
  env: (o) => ({
    READINGS_STREAM: o.stream,
    REDIS_URL: o.redis,
    SMTP_URL: o.smtp,
    ALERT_TO: `${o.copy}@alerts.test`,
    MACHINE_DATA_OUT: join(o.work, `out-${o.copy}`),
    READINGS_PER_WINDOW: '40',
    APP_WINDOW: '3',
    PARTITIONS: '2',
  }),
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TestDatabase> {
  const db = await freshDatabase();
  cleanups.push(() => db.close());
  return db;
}

function lunchTest(name: string, schedule: KillStep[], app: AppUnderTest = caseStudy): void {
  const LAST_WINDOW_KEY = app.lastWindowKey;
  test(`lunch test, ${name}: the killed copy's Redis database equals the undisturbed copy's, key for key`, async () => {
    const work = workDir('redis-lunch');
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const [source, a, b] = [await database(), await database(), await database()];
    // 25 windows' worth before the start, then 2,500 a second (the copies take 1,000 a second each):
    // the stream stays ahead of both, so each window holds its 40 readings in both copies.
    await append(source.client, 'readings', 0, 1000);
    const writer = growStream(source.client, 'readings', 1000, 50);
    cleanups.push(async () => void (await writer.stop()));
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.stop());

    const run = (db: TestDatabase, copy: string) =>
      startApp(app.path, {
        store: join(work, `store-${copy}`),
        windows: WINDOWS,
        windowMs: 40,
        env: app.env({ copy, work, stream: `${source.url}#readings`, redis: db.url, smtp: smtp.url }),
      });

    const undisturbed = exited(run(a, 'a'));
    const kills: string[] = [];
    for (const step of schedule) {
      const child = run(b, 'b');
      const exit = exited(child);
      await whenKeyReaches(b.client, LAST_WINDOW_KEY, step.atWindow, child);
      child.kill('SIGKILL');
      const r = await exit;
      kills.push(`${r.signal ?? r.code} after window ${await b.client.get(LAST_WINDOW_KEY)}`);
      expect(r.signal, r.stderr).toBe('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, step.pauseMs));
    }
    const last = await exited(run(b, 'b'));
    const first = await undisturbed;
    const written = await writer.stop();

    const context = `kills: ${kills.join(', ')}; stream ${written} entries\n${last.stderr}`;
    expect(first.code, first.stderr).toBe(0);
    expect(last.code, context).toBe(0);
    const [dumpA, dumpB] = [await dumpDatabase(a.client, isFence), await dumpDatabase(b.client, isFence)];
    expect(dumpA.get(LAST_WINDOW_KEY)).toBe(String(WINDOWS));
    expect(dumpA.size).toBeGreaterThan(100);
    expect(dumpB, context).toEqual(dumpA);

    // Every alert reached the server from each copy, with the same Message-IDs. The undisturbed copy
    // sent each once; SmtpAlert is at-least-once, and a SIGKILL between the server's 250 and the outbox
    // record resends at most the one alert in flight: a kill may add one copy, never more.
    const delivered = (copy: string) =>
      smtp.messages.filter((m) => m.rcptTo.includes(`${copy}@alerts.test`)).map((m) => m.messageId);
    const [mailA, mailB] = [delivered('a'), delivered('b')];
    expect(mailA.length).toBeGreaterThan(0);
    expect(new Set(mailA).size, 'the undisturbed copy sent an alert twice').toBe(mailA.length);
    expect([...new Set(mailB)].sort()).toEqual([...mailA].sort());
    expect(mailB.length - mailA.length, `resent by copy b (${context})`).toBeLessThanOrEqual(schedule.length);
    // ~15 s on an idle 2-core machine; the limit is for a loaded one (every `sluice run` start then takes
    // several seconds).
  }, 240_000);
}

function isFence(key: string): boolean {
  return key.includes(':fence:');
}

// Reading 500 (hot) is in window 13: the kill comes as application window 13–15 is written and alerted.
lunchTest('killed once mid-run', [{ atWindow: 15, pauseMs: 700 }]);
