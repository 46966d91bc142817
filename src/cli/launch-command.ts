/** `sluice launch`, `sluice status --cluster`, `sluice kill --cluster`: requests to a cluster supervisor. */
import { loadSecret } from '../cluster/secret.ts';
import { ClusterClient } from '../cluster-run/cluster-client.ts';
import type { AppSummary } from '../cluster-run/supervisor-protocol.ts';

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
  return `${s.name}: ${s.state}, window ${s.window}, committed ${s.committed}, restarts ${s.restarts}${placement ? `, containers ${placement}` : ''}${s.error ? `, error: ${s.error}` : ''}`;
}

async function connect(url: string, secretFile?: string): Promise<ClusterClient> {
  return ClusterClient.connect(url, { secret: loadSecret({ secretFile }) });
}

export async function launchCommand(app: string, opts: LaunchCommandOptions): Promise<number> {
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
    const ended = await client.wait(started.name);
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
