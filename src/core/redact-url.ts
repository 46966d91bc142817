/** The URL without its password, for messages and logs (`redis://user:***@host`). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
