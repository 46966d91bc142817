/** `sluice launch`, `sluice status --cluster`, `sluice kill --cluster`: requests to a cluster supervisor. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSecret } from '../cluster/secret.ts';
import { ClusterClient } from '../cluster-run/cluster-client.ts';
import { ClusterCallError } from '../cluster-run/rpc.ts';
import type { AppSummary } from '../cluster-run/supervisor-protocol.ts';
import { CliError, EXIT_INTERRUPTED } from './errors.ts';

export type LaunchCommandOptions = {
  cluster: string;
  windows?: number;
  windowMs?: number;
  checkpointEvery?: number;
  containers?: number;
  detach?: boolean;
  secretFile?: string;
};

function line(s: AppSummary): string {
  const placement = Object.entries(s.placement)
    .map(([c, n]) => `${c}→${n}`)
    .join(' ');
  const left = s.unfinished === undefined ? '' : `, window ${s.unfinished} left for the relaunch`;
  return `${s.name}: ${s.state}, window ${s.window}, committed ${s.committed}, restarts ${s.restarts}${left}${placement ? `, containers ${placement}` : ''}${s.error ? `, error: ${s.error}` : ''}`;
}

/** Connects to the first of the comma-separated supervisor URLs that answers (the active one of several). */
function connect(urls: string, secretFile?: string): Promise<ClusterClient> {
  return ClusterClient.connectFirst(urls, { secret: loadSecret({ secretFile }) });
}

/** How long `launch` keeps reconnecting to a supervisor that went away (restarted, or a standby taking over). */
const RECONNECT_MS = 120_000;

/**
 * Waits for the application's end through supervisor restarts and failovers: a lost connection is
 * reconnected (to any of the URLs), and an application not there yet (a restarted supervisor resumes it
 * once nodes rejoin) is asked for again.
 */
async function waitThrough(
  first: ClusterClient,
  name: string,
  opts: LaunchCommandOptions,
): Promise<AppSummary> {
  let client: ClusterClient | undefined = first;
  const opened: ClusterClient[] = [];
  let since: number | undefined;
  try {
    for (;;) {
      try {
        if (client === undefined) {
          client = await connect(opts.cluster, opts.secretFile);
          opened.push(client);
        }
        return await client.wait(name);
      } catch (e) {
        const code = (e as { code?: string }).code;
        // The supervisor refused the wait for another reason than "not there (yet)": that is the answer.
        if (
          e instanceof ClusterCallError &&
          code !== 'SLUICE_CLUSTER_CLOSED' &&
          code !== 'SLUICE_CLUSTER_REQUEST'
        )
          throw e;
        since ??= performance.now();
        if (performance.now() - since > RECONNECT_MS) throw e;
        if (code === 'SLUICE_CLUSTER_CLOSED') {
          process.stderr.write(
            'lost the supervisor; waiting for it (or a standby) to resume the application\n',
          );
          client = undefined;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    for (const c of opened) c.close();
  }
}

export async function launchCommand(app: string, opts: LaunchCommandOptions): Promise<number> {
  // Bad input before the supervisor is asked (it would answer with its own module loader's error).
  const file = resolve(app);
  if (!existsSync(file) || !statSync(file).isFile()) throw new CliError(`no application module at ${file}`);
  const client = await connect(opts.cluster, opts.secretFile);
  try {
    const started = await client.launch(app, {
      windows: opts.windows,
      streamingWindowMs: opts.windowMs,
      checkpointWindowCount: opts.checkpointEvery,
      containers: opts.containers,
    });
    process.stderr.write(`launched ${line(started)}\n`);
    if (opts.detach) return 0;
    // Ctrl-C leaves the launcher, not the application: said, so that 130 is not taken for a stop.
    const leave = () => {
      process.stderr.write(
        `sluice: ${started.name} is still running on the cluster (sluice status, sluice kill ${started.name} --cluster ${opts.cluster})\n`,
      );
      process.exit(EXIT_INTERRUPTED);
    };
    process.once('SIGINT', leave);
    const ended = await waitThrough(client, started.name, opts).finally(() => process.off('SIGINT', leave));
    process.stdout.write(`${line(ended)}\n`);
    return ended.state === 'done' || ended.state === 'stopped' ? 0 : 1;
  } finally {
    client.close();
  }
}

export async function statusCommand(opts: {
  cluster: string;
  json?: boolean;
  secretFile?: string;
}): Promise<number> {
  const client = await connect(opts.cluster, opts.secretFile);
  try {
    const status = await client.status();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(status)}\n`);
      return 0;
    }
    process.stdout.write(`nodes (${status.nodes.length}):\n`);
    for (const n of status.nodes)
      process.stdout.write(
        `  ${n.nodeId}: ${n.containers} containers, hosting ${n.hosting.join(', ') || 'nothing'}\n`,
      );
    process.stdout.write(`applications (${status.apps.length}):\n`);
    for (const a of status.apps) process.stdout.write(`  ${line(a)}\n`);
    return 0;
  } finally {
    client.close();
  }
}

export async function killCommand(
  name: string,
  opts: { cluster: string; secretFile?: string },
): Promise<number> {
  const client = await connect(opts.cluster, opts.secretFile);
  try {
    process.stdout.write(`${line(await client.kill(name))}\n`);
    return 0;
  } finally {
    client.close();
  }
}
