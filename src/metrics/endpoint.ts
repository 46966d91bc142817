/**
 * `sluice run --metrics HOST:PORT`: `/metrics` in Prometheus's text format, `/metrics.json` the same
 * snapshot as JSON (run.metrics()). Loopback by default; another address needs a token (Bearer).
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
  application: string,
  /** Undefined until the run is launched: 503. */
  snapshot: () => MetricsSnapshot | undefined,
  token?: string,
): Promise<MetricsEndpoint> {
  const at = parseListenAddress(address, '--metrics');
  const secret = requiredToken(at, token, '--metrics');
  const prometheus = new PrometheusExport(application);
  const server: Server = guardedServer(
    {
      '/metrics': async (req, res) => {
        const s = snapshot();
        if (s === undefined) return refuse(res, 503, 'the run has not started yet', { 'retry-after': '1' });
        const text = await prometheus.render(s);
        res.writeHead(200, { 'content-type': prometheus.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      '/metrics.json': (req, res) => {
        const s = snapshot();
        if (s === undefined) return refuse(res, 503, 'the run has not started yet', { 'retry-after': '1' });
        const body = JSON.stringify(s);
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
