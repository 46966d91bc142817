/**
 * `sluice run … --metrics HOST:PORT --console HOST:PORT --json`: the endpoints that let people see a run.
 * They listen before the run starts (a port in use or a refused address leaves the store untouched) and
 * answer 503 until it has; closed when the run ends.
 */
import type { Run } from '../engine/run.ts';
import type { StatusEvent } from '../engine/status.ts';
import { ListenAddressError, tokenFor } from '../metrics/http.ts';
import type { MetricsSnapshot } from '../metrics/types.ts';
import { CliError } from './errors.ts';
import type { Logger } from './logger.ts';

export interface ObserveOptions {
  metrics?: string;
  metricsToken?: string;
  console?: string;
  consoleToken?: string;
}

export interface Observers {
  /** Hands the endpoints the run once it is launched. */
  attach(run: Run): void;
  close(): Promise<void>;
}

export async function startObservers(
  application: string,
  options: ObserveOptions,
  log: Logger,
): Promise<Observers> {
  let run: Run | undefined;
  const snapshot = (): MetricsSnapshot | undefined => run?.metrics();
  const closers: (() => Promise<void>)[] = [];
  const secret = process.env.SLUICE_SECRET || undefined;
  try {
    if (options.metrics !== undefined) {
      // Loaded only when asked for: prom-client costs every other run its startup time.
      const { serveMetrics } = await import('../metrics/endpoint.ts');
      const token = tokenFor(options.metrics, '--metrics', options.metricsToken, secret);
      const m = await serveMetrics(options.metrics, application, snapshot, token);
      closers.push(() => m.close());
      const url = `http://${hostForUrl(m.address.host)}:${m.address.port}`;
      log.info(
        { event: 'metrics', url: `${url}/metrics` },
        `metrics at ${url}/metrics (JSON: ${url}/metrics.json)`,
      );
    }
    if (options.console !== undefined) {
      const { serveConsole } = await import('../console/server.ts');
      const token = tokenFor(options.console, '--console', options.consoleToken, secret);
      const c = await serveConsole(options.console, () => run, token);
      closers.push(() => c.close());
      // The token is not logged: whoever has it gives it in the address (?token=…).
      const url = `http://${hostForUrl(c.address.host)}:${c.address.port}/`;
      log.info({ event: 'console', url }, `console at ${url}`);
    }
  } catch (e) {
    await Promise.all(closers.map((c) => c()));
    // A bad address is bad usage (exit 2), like a bad option.
    throw e instanceof ListenAddressError ? new CliError(e.message) : e;
  }
  return {
    attach(r) {
      run = r;
    },
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
}

export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * With --json, one line per window and per commit (the window-level happenings), with the figures a
 * dashboard wants, at every log level; text logs keep them at debug level (logStatus; the progress line
 * sums them up).
 */
export function logWindows(log: Logger, run: Run): (e: StatusEvent) => void {
  return (e) => {
    if (e.type === 'window') {
      const w = run.collector?.windows();
      log.info(
        {
          event: 'window',
          window: e.window,
          tuples: e.tuples,
          committed: w?.committed,
          commitLag: w?.commitLag,
        },
        `window ${e.window}`,
      );
    } else if (e.type === 'commit') {
      log.info({ event: 'commit', window: e.window }, `committed ${e.window}`);
    }
  };
}
