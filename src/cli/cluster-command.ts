/** `sluice supervisor` and `sluice node`: the two long-running processes of a cluster. */

import { statSync } from 'node:fs';
import { holdSupervisorLease } from '../../supervisors/cluster-standby.ts';
import { ClusterSupervisor } from '../../supervisors/cluster-supervisor.ts';
import { loadSecret } from '../cluster/secret.ts';
import { ClusterNode } from '../cluster-run/node-agent.ts';
import { isRedisUrl } from '../core/urls.ts';
import { startClusterObservers } from './cluster-observe.ts';
import { CliError } from './errors.ts';

export type SupervisorCommandOptions = {
  listen: string;
  store: string;
  secretFile?: string;
  lease?: string;
  standby?: boolean;
  metrics?: string;
  metricsToken?: string;
  console?: string;
  consoleToken?: string;
};
export type NodeCommandOptions = {
  join: string;
  containers: number;
  secretFile?: string;
  id?: string;
  dataHost?: string;
  supervisorGrace?: number;
  windowsWhileDown?: number;
  spares?: number;
  heartbeatTimeout?: number;
  reuseWorkers?: boolean;
};

/** HOST:PORT or [IPv6]:PORT. */
export function hostPort(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port > 65535) throw new CliError(`expected HOST:PORT, got ${value}`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (s: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** What the supervisor's options must hold before anything is opened (one line, exit 2 otherwise). */
function checkSupervisorOptions(opts: SupervisorCommandOptions): void {
  if (opts.store.trim() === '') throw new CliError('--store needs a directory or a redis:// URL, got ""');
  if (!isRedisUrl(opts.store)) {
    const info = statSync(opts.store, { throwIfNoEntry: false });
    if (info !== undefined && !info.isDirectory())
      throw new CliError(
        `--store ${opts.store} is not a directory (the stores go under it, one per application)`,
      );
  }
  if (opts.lease !== undefined && !isRedisUrl(opts.lease))
    throw new CliError(`--lease ${opts.lease}: expected redis://HOST:PORT[/DB]`);
  if (opts.standby && opts.lease === undefined)
    throw new CliError('--standby needs --lease: a standby waits for the lease the active supervisor holds');
}

export async function supervisorCommand(opts: SupervisorCommandOptions): Promise<number> {
  checkSupervisorOptions(opts);
  const { host, port } = hostPort(opts.listen);
  const secret = loadSecret({ secretFile: opts.secretFile });
  let lost: (() => void) | undefined;
  const lease =
    opts.lease === undefined
      ? undefined
      : await holdSupervisorLease({ url: opts.lease, standby: opts.standby ?? false, log }, (err) => {
          log(err.message);
          lost?.();
        });
  // --metrics and --console listen before the supervisor starts: a bad address changes nothing.
  let supervisor: ClusterSupervisor | undefined;
  const observers = await startClusterObservers(() => supervisor?.runs() ?? [], opts, secret, log).catch(
    async (e: unknown) => {
      await lease?.release();
      throw e;
    },
  );
  // Someone watching wants every operator's count: fused streams are counted too (as with sluice run).
  const watched = opts.metrics !== undefined || opts.console !== undefined;
  supervisor = await ClusterSupervisor.start({
    host,
    port,
    store: opts.store,
    secret,
    log,
    metrics: watched ? { fusedTuples: true } : undefined,
  });
  // The one line on stdout: scripts and tests read the URL (a port 0 was given to the OS to choose).
  process.stdout.write(`sluice supervisor listening on ${supervisor.url}\n`);
  const fenced = new Promise<'lease lost'>((resolve) => {
    lost = () => resolve('lease lost');
  });
  const why = await Promise.race([untilSignal(), fenced]);
  log(`${why}: stopping the supervisor (applications are stopped here, their checkpoints kept)`);
  await observers.close();
  await supervisor.close();
  await lease?.release();
  return why === 'lease lost' ? 1 : 0;
}

export async function nodeCommand(opts: NodeCommandOptions): Promise<number> {
  const secret = loadSecret({ secretFile: opts.secretFile });
  const node = await ClusterNode.start({
    join: opts.join,
    containers: opts.containers,
    secret,
    nodeId: opts.id,
    dataHost: opts.dataHost,
    supervisorGraceMs: opts.supervisorGrace,
    windowsWhileDown: opts.windowsWhileDown,
    spares: opts.spares,
    heartbeatTimeoutMs: opts.heartbeatTimeout,
    reuseWorkers: opts.reuseWorkers,
    log,
  });
  process.stdout.write(`sluice node ${node.nodeId} joined ${opts.join}\n`);
  const signal = await untilSignal();
  log(`${signal}: node ${node.nodeId} leaving`);
  await node.stop();
  return 0;
}
