/**
 * `sluice tap APP --port OPERATOR.PORT --console HOST:PORT [--sample N] [--limit N]`: a live sample of
 * the tuples crossing one port of a running application, through its console's WebSocket (that of
 * `sluice run --console`, or of `sluice supervisor --console` for an application on the cluster: the
 * tap opens on the node whose container writes the port). Tuples go to
 * stdout as JSON lines; what happens to stderr. Ends with the application, at --limit, or at Ctrl-C.
 */
import WebSocket from 'ws';
import { parseListenAddress } from '../metrics/http.ts';
import { CliError, EXIT_FAILED, EXIT_OK } from './errors.ts';
import { loadApp } from './load-app.ts';
import { hostForUrl } from './observe.ts';

export interface TapCommandOptions {
  port: string;
  console: string;
  consoleToken?: string;
  sample: number;
  limit?: number;
  cwd?: string;
}

export async function tapCommand(appPath: string, options: TapCommandOptions): Promise<number> {
  const app = await loadApp(appPath, options.cwd ?? process.cwd());
  let at: { host: string; port: number };
  try {
    at = parseListenAddress(options.console, '--console');
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const token = options.consoleToken ?? (process.env.SLUICE_SECRET || undefined);
  // ?app= picks the application on a cluster supervisor's console (which serves all it runs).
  const url = `ws://${hostForUrl(at.host)}:${at.port}/live?app=${encodeURIComponent(app.name)}`;
  const ws = new WebSocket(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    maxPayload: 64 * 1024 * 1024,
    handshakeTimeout: 10_000,
  });
  let printed = 0;
  let failure: CliError | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    ws.close(1000, 'done');
  };
  process.once('SIGINT', stop);
  try {
    await new Promise<void>((resolve) => {
      ws.on('unexpected-response', (_req, res) => {
        failure = new CliError(
          `the console at ${options.console} refused the tap: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (give --console-token or SLUICE_SECRET)' : ''}`,
          EXIT_FAILED,
        );
        resolve();
      });
      ws.on('error', (e) => {
        failure ??= new CliError(`cannot reach the console at ${options.console}: ${e.message}`, EXIT_FAILED);
        resolve();
      });
      ws.on('close', (code, reason) => {
        // Closed by the console, not by us (a stop, the limit, Ctrl-C): say why instead of exiting 0.
        if (!stopped && failure === undefined && code !== 1000 && code !== 1001) {
          failure = new CliError(
            `the console at ${options.console} closed the tap (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`,
            EXIT_FAILED,
          );
        }
        resolve();
      });
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as Record<string, any>;
        if (m.type === 'hello') {
          if (m.plan.application !== app.name) {
            failure = new CliError(
              `the console at ${options.console} runs "${m.plan.application}", not "${app.name}"`,
            );
            return stop();
          }
          ws.send(JSON.stringify({ type: 'tap', port: options.port, sample: options.sample }));
        } else if (m.type === 'tap-opened') {
          process.stderr.write(
            `tap on ${m.port} (${m.channels} channel${m.channels === 1 ? '' : 's'}), at most ${options.sample} tuples/s\n`,
          );
        } else if (m.type === 'tap') {
          for (const t of m.tuples as string[]) {
            if (options.limit !== undefined && printed >= options.limit) return stop();
            process.stdout.write(`${t}\n`);
            printed++;
          }
          if (options.limit !== undefined && printed >= options.limit) stop();
        } else if (m.type === 'error') {
          failure = new CliError(m.message);
          stop();
        }
      });
    });
  } finally {
    process.off('SIGINT', stop);
  }
  if (failure) throw failure;
  return EXIT_OK;
}
