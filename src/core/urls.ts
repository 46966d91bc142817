/** The URL without its password, for messages and logs (`redis://user:***@host`). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** A redis:// or rediss:// URL (a store, a lease, an operator's Redis), as opposed to a path. */
export function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\//.test(value);
}
