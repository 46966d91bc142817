/**
 * Shared by the Redis kill tests: the app under test as a `sluice run` child process, a writer that
 * keeps a readings stream growing, and waiting on a key.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { readingToFields } from '../../actors/index.ts';
import type { Reading } from '../../actors/machine-data/types.ts';
import { sluiceRun } from '../recovery/kill-loop.ts';

export { repoRoot } from '../recovery/kill-loop.ts';

/** The app both copies run (see apps/redis-averages.ts for its environment). */
export const redisApp = join(import.meta.dirname, 'apps', 'redis-averages.ts');

export function workDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `sluice-${name}-`));
}

export interface AppRun {
  store: string;
  windows: number;
  windowMs: number;
  env: Record<string, string>;
}

export function startApp(app: string, r: AppRun): ChildProcess {
  const args = [app, '--window-ms', String(r.windowMs), '--windows', String(r.windows)];
  return sluiceRun([...args, '--checkpoint-every', '5', '--store', r.store], r.env);
}

/**
 * Reading i of the test streams: every field in range, low usage on devices 1–49, and one hot reading
 * (device 50, cpu 90) every 2,000 from i = 500: the dimension keys holding device 50 alone average above
 * 70 % there, so a few alerts (32 per hot reading in the 64-dimension case study, 1 in the small app;
 * SmtpAlert sends 10 a second).
 */
export function reading(i: number): Reading {
  const hot = i % 2000 === 500;
  return {
    customer: 1 + (i % 5),
    product: 4 + (i % 3),
    os: 10 + (i % 3),
    software1: 10 + (i % 3),
    software2: 12 + (i % 3),
    software3: 4 + (i % 3),
    device: hot ? 50 : 1 + (i % 49),
    cpu: hot ? 90 : (i * 7) % 60,
    ram: (i * 11) % 60,
    hdd: (i * 13) % 60,
    minute: Math.floor(i / 400) % 1440,
    day: 20_400,
  };
}

export async function append(client: Redis, stream: string, from: number, to: number): Promise<void> {
  const p = client.pipeline();
  for (let i = from; i < to; i++) p.xadd(stream, '*', ...readingToFields(reading(i)));
  await p.exec();
}

/** Keeps appending `perTick` readings every `tickMs` until stopped; resolves with how many it wrote. */
export function growStream(client: Redis, stream: string, from: number, perTick: number, tickMs = 20) {
  let next = from;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      await append(client, stream, next, next + perTick);
      next += perTick;
      await new Promise((r) => setTimeout(r, tickMs));
    }
    return next;
  })();
  return {
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

/** Resolves once `key` holds a number ≥ `atLeast` (or rejects if `child` exits first). */
export async function whenKeyReaches(client: Redis, key: string, atLeast: number, child: ChildProcess) {
  while (Number((await client.get(key)) ?? 0) < atLeast) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the run exited (${child.exitCode ?? child.signalCode}) before ${key} reached ${atLeast}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
