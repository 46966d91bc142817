import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { exited } from '../recovery/kill-loop.ts';
import { dumpDatabase, freshDatabase, openDatabase } from '../setup/redis.ts';
import { startRedisProcess } from '../setup/redis-process.ts';
import { startSmtpServer, type TestSmtpServer } from '../setup/smtp-server.ts';
import { append, growStream, repoRoot, whenKeyReaches, workDir } from './redis-kit.ts';

/**
 * Redis and SMTP down during a run of the case study (`examples/machine-data/start.ts`, what `npm start`
 * runs, with its progress line): copy B writes its averages to a private redis-server that is stopped and
 * started again mid-run, and mails through an SMTP server that answers 451 until the progress line has
 * said so; copy A runs undisturbed. Both read the same growing Redis stream (a fixed number of entries per
 * window, so both cut the same windows). After both ran their windows: B's database equals A's key for
 * key, and B delivered every alert A did, once each — nothing lost, nothing twice.
 */
const WINDOWS = 60;
const LAST_WINDOW_KEY = 'machine-data:last-window:averages';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** start.ts in a child process, its settings as flags; `lines` collects its stderr lines as they come. */
function startScript(work: string, copy: string, flags: Record<string, string>) {
  const args = ['--conditions=sluice-source', '--import', 'tsx', 'examples/machine-data/start.ts'];
  args.push(String(WINDOWS), join(work, `store-${copy}`));
  for (const [flag, value] of Object.entries(flags)) args.push(`--${flag}`, value);
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return { child, lines, exit: exited(child) };
}

async function until(what: string, child: ChildProcess, ok: () => boolean | Promise<boolean>) {
  while (!(await ok())) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function deliveries(smtp: TestSmtpServer): Map<string, number> {
  return smtp.countByMessageId();
}

test('Redis stopped and started again, SMTP answering 451: the outputs retry, the progress line says so, nothing lost or twice', async () => {
  const work = workDir('machine-data-outage');
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const source = await freshDatabase();
  const a = await freshDatabase();
  cleanups.push(
    () => source.close(),
    () => a.close(),
  );
  // B's Redis: a private server whose data survive its restart (append-only file), as a restarted node's do.
  const redisDir = join(work, 'redis-b');
  mkdirSync(redisDir);
  let redisB = await startRedisProcess({ persistDir: redisDir });
  cleanups.push(() => redisB.stop());
  const urlB = `${redisB.url}/0`;
  const smtpA = await startSmtpServer();
  const smtpB = await startSmtpServer();
  cleanups.push(
    () => smtpA.stop(),
    () => smtpB.stop(),
  );
  smtpB.refuseNext(1_000_000); // 451 until the progress line said so

  await append(source.client, 'readings', 0, 1000);
  const writer = growStream(source.client, 'readings', 1000, 50);
  cleanups.push(async () => void (await writer.stop()));
  const settings = (redis: string, smtp: string) => ({
    'readings-stream': `${source.url}#readings`,
    'redis-url': redis,
    'smtp-url': smtp,
    'window-ms': '40',
    'app-window': '3',
    'readings-per-window': '40',
  });
  const copyA = startScript(work, 'a', { ...settings(a.url, smtpA.url), out: join(work, 'out-a') });
  const copyB = startScript(work, 'b', { ...settings(urlB, smtpB.url), out: join(work, 'out-b') });

  const b = await openDatabase(urlB, 0);
  await whenKeyReaches(b.client, LAST_WINDOW_KEY, 6, copyB.child);
  await b.close();
  await redisB.stop();
  await until('Redis down on the progress line', copyB.child, () =>
    copyB.lines.some((l) => l.includes('Redis down, retrying')),
  );
  redisB = await startRedisProcess({ port: redisB.port, persistDir: redisDir });
  await until('SMTP down on the progress line', copyB.child, () =>
    copyB.lines.some((l) => l.includes('SMTP down, retrying')),
  );
  smtpB.refuseNext(0);

  const [exitA, exitB] = [await copyA.exit, await copyB.exit];
  await writer.stop();
  expect(exitA.code, exitA.stderr).toBe(0);
  expect(exitB.code, copyB.lines.join('\n')).toBe(0);
  expect(copyB.lines).toContain(`stopped after window ${WINDOWS}, committed ${WINDOWS}`);
  // Once Redis was back the line stopped saying it was down.
  const downAt = copyB.lines.findIndex((l) => l.includes('Redis down, retrying'));
  expect(copyB.lines.slice(downAt).some((l) => l.startsWith('window ') && !l.includes('down'))).toBe(true);

  const bAfter = await openDatabase(urlB, 0);
  cleanups.push(() => bAfter.close());
  const isFence = (k: string) => k.includes(':fence:');
  const [dumpA, dumpB] = [await dumpDatabase(a.client, isFence), await dumpDatabase(bAfter.client, isFence)];
  expect(dumpA.get(LAST_WINDOW_KEY)).toBe(String(WINDOWS));
  expect(dumpA.size).toBeGreaterThan(100);
  expect(dumpB).toEqual(dumpA);
  // Every alert of A from B too, each once (SMTP refused it until it took it: no copy).
  const [mailA, mailB] = [deliveries(smtpA), deliveries(smtpB)];
  expect(mailA.size).toBeGreaterThan(0);
  expect([...mailB.keys()].sort()).toEqual([...mailA.keys()].sort());
  expect([...mailA.values(), ...mailB.values()].every((n) => n === 1)).toBe(true);
}, 240_000);
