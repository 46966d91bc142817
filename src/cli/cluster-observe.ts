/**
 * `sluice supervisor --metrics HOST:PORT --console HOST:PORT`: the endpoints of `sluice run`, served by
 * the cluster supervisor for every application it runs, from what the nodes relay of their containers'
 * heartbeats (src/cluster-run/cluster-metrics.ts). `/metrics` holds every application (its
 * `application` label, and each actor's `node` and `container`); the console shows one application,
 * `?app=NAME` (default: the newest one still running). Loopback by default; any other address needs a
 * token, by default the cluster secret, so the page cannot drive an application without it.
 */
import type { ConsoleTarget } from '../console/target.ts';
import { ListenAddressError, tokenFor } from '../metrics/http.ts';
import type { MetricsSnapshot } from '../metrics/types.ts';
import { CliError } from './errors.ts';
import { hostForUrl } from './observe.ts';

/** An application on the cluster as the endpoints see it (ClusterRun). */
export interface ObservedApp extends ConsoleTarget {
  readonly name: string;
  readonly state: string;
}

export interface ClusterObserveOptions {
  metrics?: string;
  metricsToken?: string;
  console?: string;
  consoleToken?: string;
}

const LIVE = new Set(['starting', 'running', 'recovering']);

/** The application `name`, or without one the newest still running (else the newest). */
export function pickApp(apps: readonly ObservedApp[], name: string | undefined): ObservedApp | undefined {
  if (name !== undefined) return apps.find((a) => a.name === name);
  return apps.findLast((a) => LIVE.has(a.state)) ?? apps.at(-1);
}

export async function startClusterObservers(
  apps: () => readonly ObservedApp[],
  options: ClusterObserveOptions,
  secret: Buffer | undefined,
  log: (line: string) => void,
): Promise<{ close(): Promise<void> }> {
  const closers: (() => Promise<void>)[] = [];
  const clusterToken = secret?.toString('utf8');
  try {
    if (options.metrics !== undefined) {
      const { serveMetrics } = await import('../metrics/endpoint.ts');
      // Not while starting: a supervisor adopting an application reads its counters from the nodes
      // first; served before, they would read 0 and seem to go back (a gap is no reset).
      const snapshots = (): MetricsSnapshot[] =>
        apps().flatMap((a) =>
          a.collector === null || a.state === 'starting' ? [] : [a.collector.snapshot()],
        );
      const m = await serveMetrics(
        options.metrics,
        'cluster',
        snapshots,
        tokenFor(options.metrics, '--metrics', options.metricsToken, clusterToken),
      );
      closers.push(() => m.close());
      const url = `http://${hostForUrl(m.address.host)}:${m.address.port}`;
      log(`metrics at ${url}/metrics (JSON: ${url}/metrics.json)`);
    }
    if (options.console !== undefined) {
      const { serveConsole } = await import('../console/server.ts');
      const c = await serveConsole(
        options.console,
        (name) => pickApp(apps(), name),
        tokenFor(options.console, '--console', options.consoleToken, clusterToken),
        () => apps().map((a) => a.name),
      );
      closers.push(() => c.close());
      log(
        `console at http://${hostForUrl(c.address.host)}:${c.address.port}/ (?app=NAME picks an application)`,
      );
    }
  } catch (e) {
    await Promise.all(closers.map((c) => c()));
    throw e instanceof ListenAddressError ? new CliError(e.message) : e;
  }
  return { close: async () => void (await Promise.all(closers.map((c) => c()))) };
}
