/**
 * What the metrics endpoint and the web console share: parsing HOST:PORT, the loopback rule, the token
 * check, and an http server that refuses what it does not serve cleanly (431 for oversized headers, 404
 * for an unknown path, 405 for a method it does not take, 400 for a request it cannot parse) and never
 * lets a bad client crash the process.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { SluiceError } from '../core/errors.ts';

/** Headers larger than this are refused with 431 (node's default is 16 KB). */
export const MAX_HEADER_BYTES = 8192;

/** A listen address that cannot be used, or a non-loopback one without a token. */
export class ListenAddressError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_LISTEN_ADDRESS', message);
  }
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback); port 0 picks a free one. */
export function parseListenAddress(text: string, flag: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    throw new ListenAddressError(
      `${flag} ${text}: expected HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, :9464)`,
    );
  }
  const host = m[1] ?? (m[2] || '127.0.0.1');
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/**
 * The token a server needs: none on loopback unless given; off loopback one is required (from the flag
 * or SLUICE_SECRET), else the address is refused before anything listens.
 */
export function requiredToken(
  address: ListenAddress,
  token: string | undefined,
  flag: string,
): string | undefined {
  if (token !== undefined && token.length < 16) {
    throw new ListenAddressError(`${flag}: the token must have at least 16 characters`);
  }
  if (token === undefined && !isLoopback(address.host)) {
    throw new ListenAddressError(
      `${flag} ${address.host}:${address.port} is not a loopback address: set SLUICE_SECRET or give a token (at least 16 characters) so that only those who have it can connect`,
    );
  }
  return token;
}

/**
 * The token for a server at `address`: the one given, else the cluster secret, but only off loopback.
 * On loopback nothing is needed unless a token is given (DESIGN §7), whether or not a secret is set.
 */
export function tokenFor(
  address: string,
  flag: string,
  given: string | undefined,
  secret: string | undefined,
): string | undefined {
  if (given !== undefined) return given;
  return isLoopback(parseListenAddress(address, flag).host) ? undefined : secret;
}

/** The token of a request: `Authorization: Bearer T`, or `?token=T` (a browser's first page load). */
export function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  // The scheme is case-insensitive (RFC 7235, section 2.1): some clients send "bearer".
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  const url = new URL(req.url ?? '/', 'http://x');
  return url.searchParams.get('token') ?? undefined;
}

/** Constant-time comparison (of digests, so lengths leak nothing either). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export function refuse(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(`${text}\n`);
}

/**
 * An http server for GET routes by exact path. `authorize` (if given) runs first and may refuse. Errors
 * in a route become a 500 without taking the process down.
 */
export function guardedServer(
  routes: Record<string, Route>,
  authorize?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean,
): Server {
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 10_000, headersTimeout: 5_000 },
    (req, res) => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        return refuse(res, 400, 'bad request');
      }
      const route = routes[url.pathname];
      if (route === undefined) return refuse(res, 404, `not found: ${url.pathname}`);
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return refuse(res, 405, 'only GET', { allow: 'GET, HEAD' });
      if (authorize && !authorize(req, res, url)) return;
      Promise.resolve()
        .then(() => route(req, res, url))
        .catch(() => refuse(res, 500, 'internal error'));
    },
  );
  // A request node cannot parse (oversized headers, a malformed request line): answer and close, never throw.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}

/** Listens and resolves with the address actually bound (port 0 → the one chosen). */
export function listen(server: Server, address: ListenAddress): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) =>
      reject(new ListenAddressError(`cannot listen on ${address.host}:${address.port}: ${e.message}`));
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve({ host: address.host, port: typeof bound === 'object' && bound ? bound.port : address.port });
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
