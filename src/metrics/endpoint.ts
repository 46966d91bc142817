/**
 * `sluice run --metrics HOST:PORT`: `/metrics` in Prometheus's text format, `/metrics.json` the same
 * snapshot as JSON (run.metrics()). Loopback by default; another address needs a token (Bearer).
 *
 * The cluster supervisor serves every application it runs on one endpoint: `snapshot` then returns a
 * list; `/metrics` holds them all (told apart by their `application` label), `/metrics.json` is
 * `{ applications: [...] }`, and `/metrics.json?app=NAME` one application's snapshot.
 */
import type { Server } from 'node:http';
import {
  closeServer,
  guardedServer,
  type ListenAddress,
  listen,
  parseListenAddress,
  refuse,
  requiredToken,
  tokenMatches,
  tokenOf,
} from './http.ts';
import { PrometheusExport } from './prometheus.ts';
import type { MetricsSnapshot } from './types.ts';

export interface MetricsEndpoint {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export async function serveMetrics(
  address: string,
  /** Unused since every snapshot names its application; kept for the callers' signature. */
  _application: string,
  /** Undefined until the run is launched: 503. A list: several applications (a cluster's). */
  snapshot: () => MetricsSnapshot | readonly MetricsSnapshot[] | undefined,
  token?: string,
): Promise<MetricsEndpoint> {
  const at = parseListenAddress(address, '--metrics');
  const secret = requiredToken(at, token, '--metrics');
  const prometheus = new PrometheusExport();
  const server: Server = guardedServer(
    {
      '/metrics': async (req, res) => {
        const s = snapshot();
        if (s === undefined) return refuse(res, 503, 'the run has not started yet', { 'retry-after': '1' });
        const text = await prometheus.render(s);
        res.writeHead(200, { 'content-type': prometheus.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      '/metrics.json': (req, res, url) => {
        const s = snapshot();
        if (s === undefined) return refuse(res, 503, 'the run has not started yet', { 'retry-after': '1' });
        let body: string;
        if (!Array.isArray(s)) body = JSON.stringify(s);
        else {
          const app = url.searchParams.get('app');
          if (app === null) body = JSON.stringify({ applications: s });
          else {
            const one = (s as readonly MetricsSnapshot[]).find((x) => x.application === app);
            if (one === undefined) return refuse(res, 404, `no application ${app}`);
            body = JSON.stringify(one);
          }
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
    },
    secret === undefined
      ? undefined
      : (req, res) => {
          if (tokenMatches(tokenOf(req), secret)) return true;
          refuse(res, 401, 'a token is required (Authorization: Bearer …)', { 'www-authenticate': 'Bearer' });
          return false;
        },
  );
  const bound = await listen(server, at);
  return { address: bound, close: () => closeServer(server) };
}
