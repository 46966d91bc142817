/**
 * vitest globalSetup: one real redis-server for the whole test run, on a free loopback port, stopped at
 * the end. Tests get it with `inject('redis')` (or the helpers in redis.ts). Each test file takes a
 * database of its own (`--databases 1024`), so files running in parallel never see each other's keys.
 *
 * If redis-server is missing, the setup does not throw (that would fail every test, Redis or not): it
 * provides the reason, and every Redis test fails with it — they never skip.
 */
import type { TestProject } from 'vitest/node';
import { type RedisProcess, startRedisProcess } from './redis-process.ts';

export type ProvidedRedis = { port: number; url: string; error?: undefined } | { error: string };

declare module 'vitest' {
  export interface ProvidedContext {
    redis: ProvidedRedis;
  }
}

export const TEST_DATABASES = 1024;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: RedisProcess | undefined;
  try {
    server = await startRedisProcess({ databases: TEST_DATABASES });
    project.provide('redis', { port: server.port, url: server.url });
  } catch (e) {
    project.provide('redis', { error: e instanceof Error ? e.message : String(e) });
  }
  return async () => {
    await server?.stop();
  };
}
