/**
 * `sluice run APP --console HOST:PORT`: the web console. One page (`/`, its script at `/console.js`),
 * its live feed over a WebSocket (`/live`), and `/api/state` (the same data once, as JSON).
 *
 * Who may use it: on loopback, pages of this origin (the Host header must name a loopback address, so a
 * rebound DNS name is refused; a WebSocket from another origin is refused, so another site open in the
 * browser cannot drive it). Anywhere else, a token (`--console-token` or SLUICE_SECRET) on every request
 * (`?token=` or `Authorization: Bearer`): without it the page is not even served, let alone controls.
 *
 * The cluster supervisor serves one console for every application it runs: `?app=NAME` on the page,
 * `/api/state` and `/live` picks one (the page passes its own query on); without it, `getRun` picks.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import {
  closeServer,
  guardedServer,
  isLoopback,
  type ListenAddress,
  listen,
  parseListenAddress,
  refuse,
  requiredToken,
  tokenMatches,
  tokenOf,
} from '../metrics/http.ts';
import { MAX_FRAME, startSession } from './live.ts';
import { PAGE } from './page.ts';
import { SCRIPT } from './page-script.ts';
import { planView } from './plan-view.ts';
import type { ConsoleTarget } from './target.ts';

export type { ConsoleTarget };

export interface ConsoleServer {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export async function serveConsole(
  address: string,
  /** The run to show: `app` is the request's `?app=` (a cluster's console; one run ignores it). */
  getRun: (app?: string) => ConsoleTarget | undefined,
  token?: string,
  /** The names `?app=` takes, offered on the page (a cluster supervisor's console). */
  applications: () => readonly string[] = () => [],
): Promise<ConsoleServer> {
  const at = parseListenAddress(address, '--console');
  const secret = requiredToken(at, token, '--console');
  const headers = {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  };
  /** An `?app=` naming none of several applications (one run's console takes any: it has one). */
  const unknown = (name: string | undefined): boolean => {
    if (name === undefined) return false;
    const names = applications();
    return names.length > 0 && !names.includes(name);
  };
  const allowed = (req: IncomingMessage): string | undefined => {
    if (secret !== undefined) return tokenMatches(tokenOf(req), secret) ? undefined : 'a token is required';
    return loopbackHost(req.headers.host) ? undefined : 'this console answers loopback names only';
  };
  const server: Server = guardedServer(
    {
      '/': (_req, res) => {
        res.writeHead(200, {
          ...headers,
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'self'; connect-src 'self'; style-src 'unsafe-inline'",
        });
        res.end(PAGE);
      },
      '/favicon.ico': (_req, res) => {
        res.writeHead(204, headers);
        res.end();
      },
      '/console.js': (_req, res) => {
        res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' });
        res.end(SCRIPT);
      },
      '/api/state': (_req, res, url) => {
        const name = url.searchParams.get('app') ?? undefined;
        if (unknown(name)) return refuse(res, 404, `no application ${name}`);
        const run = getRun(name);
        if (run?.collector == null)
          return refuse(res, 503, 'the run has not started yet', { 'retry-after': '1' });
        const c = run.collector;
        const state = {
          plan: planView(run.plan),
          snapshot: c.snapshot(),
          history: c.history(),
          timeline: c.timeline(),
        };
        res.writeHead(200, { ...headers, 'content-type': 'application/json' });
        res.end(JSON.stringify(state));
      },
    },
    (req, res, url) => {
      // The script is code, no data and no control: a page loaded with ?token= can fetch it without one.
      if (url.pathname === '/console.js' || url.pathname === '/favicon.ico') return true;
      const why = allowed(req);
      if (why === undefined) return true;
      refuse(
        res,
        secret !== undefined ? 401 : 403,
        why,
        secret !== undefined ? { 'www-authenticate': 'Bearer' } : {},
      );
      return false;
    },
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, clientTracking: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const deny = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/live') return deny('404 Not Found');
    const why = allowed(req);
    if (why !== undefined) return deny(secret !== undefined ? '401 Unauthorized' : '403 Forbidden');
    if (!sameOrigin(req)) return deny('403 Forbidden');
    const name = url.searchParams.get('app') ?? undefined;
    if (unknown(name)) return deny('404 Not Found');
    const run = getRun(name);
    if (run?.collector == null) return deny('503 Service Unavailable');
    const collector = run.collector;
    wss.handleUpgrade(req, socket, head, (ws) => startSession(ws, run, collector, applications()));
  });
  const bound = await listen(server, at);
  return {
    address: bound,
    close: async () => {
      // Going away (1001), so that `sluice tap` following the run to its end exits as done, not on an
      // abnormal closure; a client that does not answer within CLOSE_GRACE_MS is cut off.
      const closed = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            ws.close(1001, 'the application stopped');
          }),
      );
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      await Promise.race([Promise.all(closed), grace]);
      clearTimeout(timer);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await closeServer(server);
    },
  };
}

const CLOSE_GRACE_MS = 250;

/** A Host header naming a loopback address (DNS rebinding gives another name). */
function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return isLoopback(name);
}

/** Browsers send Origin on a WebSocket: it must be this server. Other clients (sluice tap) send none. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
