/**
 * The cluster's commands, wired into the `sluice` program: supervisor, node, launch, status, kill. Each
 * command's module is imported when it runs (so --help does not load ws, the engine or LevelDB).
 */
import type { Command } from 'commander';
import { MIN_HEARTBEAT_TIMEOUT_MS } from '../container/supervision.ts';
import type { NodeCommandOptions, SupervisorCommandOptions } from './cluster-command.ts';
import type { LaunchCommandOptions } from './launch-command.ts';
import {
  clusterUrls,
  hostName,
  integerAtLeast,
  nodeId,
  nonNegativeInteger,
  positiveInteger,
  windowMs,
} from './options.ts';

const SECRET_HELP = 'file holding the cluster secret (default: SLUICE_SECRET; none: loopback only)';

export function addClusterCommands(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('supervisor')
    .description('run a cluster supervisor: nodes join it, applications are launched on it')
    .requiredOption('--listen <host:port>', 'where nodes and launchers connect (port 0: any free port)')
    .requiredOption(
      '--store <dir>',
      'snapshot stores, one per application under dir (or redis://HOST:PORT[/DB])',
    )
    .option('--secret-file <file>', SECRET_HELP)
    .option(
      '--lease <redis-url>',
      "hold the active supervisor's lease in this Redis (redis://HOST:PORT[/DB])",
    )
    .option('--standby', 'with --lease: wait while another supervisor holds it, then take over', false)
    .option('--metrics <host:port>', "serve every application's /metrics (Prometheus text) and /metrics.json")
    .option(
      '--metrics-token <token>',
      'the token /metrics needs (default: the cluster secret; required off loopback)',
    )
    .option('--console <host:port>', 'serve the web console of every application (?app=NAME picks one)')
    .option(
      '--console-token <token>',
      'the token the console needs (default: the cluster secret; required off loopback)',
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice supervisor --listen 127.0.0.1:7400 --store ./.sluice/cluster
  sluice supervisor --listen 127.0.0.1:7400 --store ./.sluice/cluster --metrics 127.0.0.1:9464 --console 127.0.0.1:8080
  sluice supervisor --listen 127.0.0.1:7401 --store ./.sluice/cluster --lease redis://127.0.0.1:6379 --standby
  SLUICE_SECRET=$(cat /etc/sluice/secret) sluice supervisor --listen 0.0.0.0:7400 --store /var/lib/sluice

Without a secret it listens on loopback only. Prints "sluice supervisor listening on ws://…" on stdout.`,
    )
    .action(async (opts: SupervisorCommandOptions) => {
      const { supervisorCommand } = await import('./cluster-command.ts');
      setExitCode(await supervisorCommand(opts));
    });

  program
    .command('node')
    .description('run a cluster node: joins a supervisor and hosts the containers it places here')
    .requiredOption(
      '--join <urls>',
      "the supervisor's ws://HOST:PORT (comma-separated: the active one and its standbys)",
      clusterUrls,
    )
    .option('--containers <n>', 'container slots this node offers', positiveInteger, 2)
    .option('--id <name>', 'node id (default: hostname-pid)', nodeId)
    .option(
      '--data-host <host>',
      'address other nodes reach this one at for streams (default 127.0.0.1)',
      hostName,
    )
    .option(
      '--supervisor-grace <ms>',
      'how long containers run on without the supervisor, to be adopted by a restarted one (0: stop at once)',
      nonNegativeInteger,
      30_000,
    )
    .option(
      '--windows-while-down <n>',
      "how many windows the inputs here may run past the supervisor's last done window while it is away (default 200)",
      nonNegativeInteger,
    )
    .option(
      '--heartbeat-timeout <ms>',
      `a container silent this long (a synchronous endless loop) is replaced (default 10000, at least ${MIN_HEARTBEAT_TIMEOUT_MS})`,
      integerAtLeast(MIN_HEARTBEAT_TIMEOUT_MS),
    )
    .option(
      '--spares <n>',
      'warm spare workers per application (default: the containers not hosted here, 1 to 4)',
      nonNegativeInteger,
    )
    .option(
      '--no-reuse-workers',
      'a restart of every container terminates the workers here instead of reusing them',
    )
    .option('--secret-file <file>', SECRET_HELP)
    .addHelpText(
      'after',
      `
Examples:
  sluice node --join ws://127.0.0.1:7400 --containers 2
  sluice node --join ws://10.0.0.5:7400 --data-host 10.0.0.7 --secret-file /etc/sluice/secret

Each node loads an application's module from its own disk, at the path the launcher gave.`,
    )
    .action(async (opts: NodeCommandOptions) => {
      const { nodeCommand } = await import('./cluster-command.ts');
      setExitCode(await nodeCommand(opts));
    });

  program
    .command('launch')
    .description('launch an application on a cluster and wait until it ends (or --detach)')
    .argument('<app>', 'the application module (.ts or .js), at the same path on every node')
    .requiredOption(
      '--cluster <urls>',
      "the supervisor's ws://HOST:PORT (comma-separated: with its standbys)",
      clusterUrls,
    )
    .option('--windows <n>', 'stop once window n is done and committed', positiveInteger)
    .option('--window-ms <ms>', 'streaming window length in milliseconds', windowMs)
    .option('--checkpoint-every <n>', 'checkpoint every n windows', nonNegativeInteger)
    .option(
      '--containers <n>',
      'containers to cut the application into (default: every joined slot)',
      positiveInteger,
    )
    .option('--detach', 'return once the application has started', false)
    .option('--secret-file <file>', SECRET_HELP)
    .action(async (app: string, opts: LaunchCommandOptions) => {
      const { launchCommand } = await import('./launch-command.ts');
      setExitCode(await launchCommand(app, opts));
    });

  program
    .command('status')
    .description("a cluster's nodes and applications (window, committed window, restarts, placement)")
    .requiredOption('--cluster <url>', "the supervisor's ws://HOST:PORT", clusterUrls)
    .option('--json', 'print JSON', false)
    .option('--secret-file <file>', SECRET_HELP)
    .action(async (opts: { cluster: string; json: boolean; secretFile?: string }) => {
      const { statusCommand } = await import('./launch-command.ts');
      setExitCode(await statusCommand(opts));
    });

  program
    .command('kill')
    .description('kill an application on a cluster (its checkpoints are kept: a launch continues from them)')
    .argument('<name>', "the application's name")
    .requiredOption('--cluster <url>', "the supervisor's ws://HOST:PORT", clusterUrls)
    .option('--secret-file <file>', SECRET_HELP)
    .action(async (name: string, opts: { cluster: string; secretFile?: string }) => {
      const { killCommand } = await import('./launch-command.ts');
      setExitCode(await killCommand(name, opts));
    });
}
