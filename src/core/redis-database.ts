import type { Redis } from 'ioredis';

/** The database a redis:// URL's path names ("" and "/" are 0); undefined when the path is not a number. */
export function redisDatabaseOf(url: string): number | undefined {
  // Not new URL(): ioredis takes an empty host (redis://:6379/1 is localhost), which URL refuses.
  const scheme = /^rediss?:\/\/[^/?#]*/.exec(url);
  if (!scheme) return undefined;
  const path = url.slice(scheme[0].length).split(/[?#]/)[0]!;
  if (path === '' || path === '/') return 0;
  const number = /^\/(\d{1,6})$/.exec(path);
  return number ? Number(number[1]) : undefined;
}

/**
 * ioredis selects a URL's database as it connects; when the server refuses (a number past its
 * `databases`), ioredis reports an error event, stays on database 0 and becomes ready all the same, so
 * every write would land in database 0. Selected again here, where a refusal rejects.
 */
export async function confirmDatabase(client: Redis, db: number): Promise<void> {
  if (db !== 0) await client.select(db);
}

/** Redis refused the credentials it was given (WRONGPASS), or wants some (NOAUTH): no retry will help. */
export function isRedisAuthError(e: unknown): boolean {
  return e instanceof Error && /\b(NOAUTH|WRONGPASS)\b/.test(e.message);
}

/** What to do about it, for an error message. */
export const REDIS_AUTH_HINT =
  'give the password in the URL, redis://:PASSWORD@host:port/db (redis://USER:PASSWORD@… for an ACL user)';
