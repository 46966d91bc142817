/**
 * The `sluice` command: commander wiring only. Each command's work is in its own file, imported when
 * the command runs (so `--help` and a bad flag answer at once, without loading the engine, Redis, SMTP
 * and WebSocket clients); every error ends here and leaves as one `sluice: …` line on stderr with the
 * exit code of errors.ts.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { setApplicationArgs } from '../api/application-args.ts';
import { MIN_HEARTBEAT_TIMEOUT_MS } from '../container/supervision.ts';
import { MAX_SAMPLE } from '../metrics/taps.ts';
import type { ChaosCommandOptions } from './chaos-command.ts';
import { addClusterCommands } from './cluster-program.ts';
import { collectDrill } from './drills.ts';
import { CliError, EXIT_OK, EXIT_USAGE, errorLine, explain } from './errors.ts';
import { integerAtLeast, integerUpTo, nonNegativeInteger, positiveInteger, windowMs } from './options.ts';
import type { RunCommandOptions } from './run-command.ts';
import { indent } from './stack.ts';
import type { TapCommandOptions } from './tap-command.ts';

// By the package's own name: this file runs as src/cli/main.ts in the repository, as dist/src/cli/main.js
// in an installed package.
const { version } = createRequire(import.meta.url)('sluice/package.json') as { version: string };

/** Runs the command line `argv` (as process.argv: node, script, args…); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // `run --json` logs JSON lines from the start, so that an option error is one too.
  const args = argv.slice(2);
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const outcome = { exitCode: EXIT_OK, json: args[0] === 'run' && own.includes('--json') };
  const program = buildProgram(outcome);
  const [first, topic] = argv.slice(2);
  // Commander answers `help NAME` for an unknown NAME with the general help and no word of why.
  if (first === 'help' && topic !== undefined && !program.commands.some((c) => c.name() === topic)) {
    process.stderr.write(errorLine(`unknown command '${topic}' (sluice help lists the commands)`));
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    if (outcome.json) writeJsonExit(30, outcome.exitCode, undefined, `exit ${outcome.exitCode}`);
    return outcome.exitCode;
  } catch (e) {
    // Commander has already printed its own message (through outputError below) or the help.
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    const { message, exitCode: code, stack } = explain(e);
    if (outcome.json) {
      // A CliError is a usage error of the command line's own finding (a drill naming no actor): SLUICE_USAGE.
      const errorCode =
        e instanceof CliError && code === EXIT_USAGE ? 'SLUICE_USAGE' : (e as { code?: unknown })?.code;
      writeJsonExit(50, code, errorCode, message);
      return code;
    }
    process.stderr.write(errorLine(message));
    // With --json the stack is a field of the run's 'failed' entry (run-command.ts).
    if (stack !== undefined && !outcome.json) process.stderr.write(`${indent(stack)}\n`);
    return code;
  }
}

/** `outcome` collects what the commands tell main: their exit code, and whether they log JSON. */
function buildProgram(outcome: { exitCode: number; json: boolean }): Command {
  const setExitCode = (code: number) => {
    outcome.exitCode = code;
  };
  const program = new Command('sluice')
    .description('Run sluice stream-processing applications.')
    .version(version)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => {
        const message = text.replace(/^error: /, '').trim();
        if (outcome.json) writeJsonExit(50, EXIT_USAGE, 'SLUICE_USAGE', message);
        else write(errorLine(message));
      },
    })
    .addHelpText(
      'after',
      `
Examples:
  sluice run examples/hello/app.ts --windows 10
  sluice plan examples/max-cpu/app.ts
  sluice chaos examples/running-sums/app.ts --runs 50
  sluice new my-app                               a new application folder, with its test under faults
  sluice tap app.ts --port count.out --console 127.0.0.1:8080   tuples crossing a port of a running app
  sluice help run                                 every flag of a command, with examples

APP is a .ts or .js module whose default export is an application (a .ts one needs no build step).`,
    );

  program
    .command('run')
    .description('run an application in this process until its windows are done or Ctrl-C')
    .argument('<app>', 'the application module (.ts or .js) whose default export is an application')
    .argument('[args...]', "after --: the application's own arguments (it reads them with applicationArgs())")
    .option(
      '--store <dir>',
      'snapshot store directory (default ./.sluice/<app name>), or redis://HOST:PORT[/DB]',
    )
    .option(
      '--window-ms <ms>',
      "streaming window length in milliseconds, ≥ 1 (default: the application's streamingWindowMs, else 500)",
      windowMs,
    )
    .option(
      '--windows <n>',
      'stop cleanly once window n is done and committed (default: run until Ctrl-C)',
      positiveInteger,
    )
    .option(
      '--checkpoint-every <n>',
      "checkpoint every n windows, 0: never (default: the application's checkpointWindowCount, else 10)",
      nonNegativeInteger,
    )
    .addOption(
      new Option(
        '--replay-from <where>',
        "how a recovery's upstreams replay: recomputed from the sources' window logs (the default), or from upstream buffers",
      ).choices(['buffers', 'sources']),
    )
    .option('--json', 'log JSON lines instead of text', false)
    .option(
      '--fault <drill>',
      'a failure drill, repeatable: actor:ID@W fails actor ID at window W; container:N@W kills container N once it finished window W',
      collectDrill,
    )
    .option(
      '--containers <n>',
      'run the actors on n worker-thread containers, placed as sluice plan --containers n shows; 0: this thread (default: the number of cores, capped by what the plan can spread over; this thread with --replay-from buffers)',
      nonNegativeInteger,
    )
    .option(
      '--heartbeat-timeout <ms>',
      `with --containers: a container silent this long (an operator stuck in synchronous code) is replaced (default 10000, at least ${MIN_HEARTBEAT_TIMEOUT_MS})`,
      integerAtLeast(MIN_HEARTBEAT_TIMEOUT_MS),
    )
    .option(
      '--lifecycle-timeout <ms>',
      "an operator's asynchronous call (setup, endWindow, teardown…) that does not settle this long fails it, and it is restarted (default 60000)",
      positiveInteger,
    )
    .option('--metrics <host:port>', 'serve /metrics (Prometheus text) and /metrics.json on this address')
    .option(
      '--metrics-token <token>',
      'the token /metrics needs (required off loopback, where SLUICE_SECRET is the default; on loopback none unless given)',
    )
    .option('--console <host:port>', 'serve the web console (DAG, rates, commits, recoveries, taps) here')
    .option(
      '--console-token <token>',
      'the token the console needs (required off loopback, where SLUICE_SECRET is the default; on loopback none unless given)',
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice run examples/hello/app.ts --windows 10      run 10 windows, then stop with a final checkpoint
  sluice run app.ts --store /var/lib/my-app          relaunched on that store, continues after its last commit
  sluice run app.ts --window-ms 100 --checkpoint-every 5 --replay-from sources
  sluice run app.ts --json                           JSON log lines on stderr (event, window, committed…)
  SLUICE_LOG_LEVEL=debug sluice run app.ts           also the stacks of failures that were restarted
  sluice run app.ts --windows 20 --fault actor:count#1@5 --fault actor:source@12   two recovery drills
  sluice run app.ts --containers 2 --fault container:1@8   on 2 worker threads; container 1 killed at window 8
  sluice run app.ts --containers 0                   every actor in this thread (one core)
  sluice run app.ts --metrics 127.0.0.1:9464         Prometheus scrapes http://127.0.0.1:9464/metrics
  sluice run app.ts --console 127.0.0.1:8080         open http://127.0.0.1:8080/ to watch it run
  sluice run app.ts --windows 5 -- --rate 500        after --: the application's own flags (applicationArgs())

Logs go to stderr (the application's own output, e.g. ConsoleSink, to stdout). SLUICE_LOG_LEVEL:
trace, debug, info (default), warn, error, fatal or silent. Exit codes: 0 done or stopped by Ctrl-C,
1 the run failed, 2 bad usage or input (options, application, DAG, store), 130 a second Ctrl-C.`,
    )
    .action(async (app: string, args: string[], opts: RunFlags) => {
      outcome.json = opts.json;
      setApplicationArgs(args);
      const { runCommand } = await import('./run-command.ts');
      setExitCode(await runCommand(app, opts));
    });

  program
    .command('tap')
    .description(
      'print a live sample of the tuples crossing one port of a running application (through its --console)',
    )
    .argument('<app>', 'the application module (.ts or .js) the running application was started from')
    .requiredOption('--port <operator.port>', 'the port to sample, as OPERATOR.PORT (e.g. count.out)')
    .requiredOption('--console <host:port>', "the running application's --console address")
    .option('--console-token <token>', 'the console token (default: SLUICE_SECRET)')
    .option('--sample <n>', `most tuples per second (1 to ${MAX_SAMPLE})`, integerUpTo(MAX_SAMPLE), 10)
    .option(
      '--limit <n>',
      'stop after printing n tuples (default: until the application stops or Ctrl-C)',
      positiveInteger,
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice tap examples/max-cpu/app.ts --port readings.out --console 127.0.0.1:8080
  sluice tap app.ts --port count.in --console 127.0.0.1:8080 --sample 100 --limit 20 | jq .

Tuples go to stdout, one JSON line each (cut at 1,000 characters); the rest to stderr. A port on a
thread-local (fused) stream cannot be tapped: tap the one before or after it. Exit codes: 0 done,
1 the console could not be reached or refused, 2 bad usage (no such operator or port).`,
    )
    .action(async (app: string, opts: TapCommandOptions) => {
      const { tapCommand } = await import('./tap-command.ts'); // ws only for this command
      setExitCode(await tapCommand(app, opts));
    });

  program
    .command('plan')
    .description('print the physical plan: actors, partitions, routes, unifier layers, fused channels')
    .argument('<app>', 'the application module (.ts or .js)')
    .argument('[args...]', "after --: the application's own arguments (applicationArgs())")
    .option('--json', 'print the plan as JSON', false)
    .option(
      '--containers <n>',
      "place the actors on n containers: each actor's container, each channel's transport; 0: this thread",
      nonNegativeInteger,
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice plan examples/max-cpu/app.ts          actors, partitions, routes, unifier layers, fused channels
  sluice plan app.ts --containers 4            which container runs each actor; fused, mailbox or message-port
  sluice plan app.ts --json | jq '.actors[].id'`,
    )
    .action(async (app: string, args: string[], opts: { json: boolean; containers?: number }) => {
      setApplicationArgs(args);
      const { planCommand } = await import('./plan-command.ts');
      setExitCode(await planCommand(app, opts));
    });

  program
    .command('chaos')
    .description('check that faults change nothing in the output: random fault schedules vs a fault-free run')
    .argument('<app>', 'the application module (.ts or .js); its input operators must be deterministic')
    .option('--runs <n>', 'fault schedules to try', positiveInteger, 100)
    .option(
      '--seed <s>',
      'seed of the schedules (printed; the same seed replays a failure)',
      nonNegativeInteger,
    )
    .option('--windows <n>', 'windows per run', positiveInteger, 12)
    .option('--checkpoint-every <n>', 'checkpoint every n windows', positiveInteger, 2)
    .option('--max-faults <n>', 'most faults per schedule', nonNegativeInteger, 6)
    .option('--key <field>', 'compare order per value of this tuple field only')
    .option(
      '--boundary-independent',
      'fail if windows cut early or late change a sink stream (for apps without per-window aggregates)',
    )
    .option(
      '--containers <n>',
      'run each schedule on n worker-thread containers, adding container kills and hangs',
      positiveInteger,
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice chaos examples/running-sums/app.ts --runs 50
  sluice chaos app.ts --runs 200 --windows 20 --max-faults 3
  sluice chaos app.ts --key device            merged partitions: compare order per device only
  sluice chaos app.ts --boundary-independent  no per-window aggregates: windows cut early must not matter
  sluice chaos app.ts --containers 3 --runs 20   on 3 containers: containers killed and hung too
  sluice chaos app.ts --runs 100 --seed 1234 --windows 12 --checkpoint-every 2 --max-faults 6
                                              the replay line a failure prints: the same schedules again

Progress goes to stderr; the verdict, and on failure the smallest fault schedule and the replay line,
to stdout. Exit codes: 0 ok, 1 a fault changed the output (or the run failed), 2 bad usage or input.`,
    )
    .action(async (app: string, opts: ChaosCommandOptions) => {
      const { chaosCommand } = await import('./chaos-command.ts');
      setExitCode(await chaosCommand(app, opts));
    });

  program
    .command('new')
    .description('scaffold an application folder: an app, a test under faults, package.json, tsconfig.json')
    .argument('<name>', 'the folder, package and application name (lower-case letters, digits, - . _)')
    .option(
      '--sluice <spec>',
      'where package.json takes sluice from (default: this sluice’s own folder; a path from here, a file: spec read from the new folder, or a version range)',
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice new orders                                   then: cd orders && npm install && npm test
  sluice new orders --sluice file:../sluice-${version}.tgz   sluice from a packed tarball (npm pack)

The folder holds src/app.ts (a source that keeps what it owes in state, a keyed operator in two
partitions, an exactly-once FileSink), test/app.test.ts (vitest: the app under a failure and a kill -9,
then random fault schedules with sluice/testkit's chaos), package.json (scripts start, test, typecheck,
plan, chaos) and tsconfig.json. An existing folder that is not empty is refused.`,
    )
    .action(async (name: string, opts: { sluice?: string }) => {
      const { newCommand } = await import('./new-command.ts');
      setExitCode(await newCommand(name, opts));
    });

  addClusterCommands(program, setExitCode);
  return program;
}

type RunFlags = Omit<RunCommandOptions, 'cwd'>;

/** The last line of `run --json`: the exit code and why, as pino would write it (level 30 info, 50 error). */
function writeJsonExit(level: number, exitCode: number, code: unknown, msg: string): void {
  process.stderr.write(
    `${JSON.stringify({ level, time: Date.now(), event: 'exit', exitCode, code, msg })}\n`,
  );
}
