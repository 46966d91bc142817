/**
 * `sluice chaos APP [--runs N] [--seed S]`: the fault-injection check of a user's application. One
 * fault-free run, then N runs under random fault schedules (throws in any call of any actor, kill and
 * relaunch); every sink's per-window output must be what the fault-free run produced.
 */
import { resolve } from 'node:path';
import { checkContainerCount } from '../container/launch-containers.ts';
import { planPhysical } from '../plan/planner.ts';
import { chaos, describeVerdict } from '../testkit/index.ts';
import { chaosProgress } from './chaos-progress.ts';
import { EXIT_FAILED, EXIT_OK } from './errors.ts';
import { buildDag, loadApp } from './load-app.ts';

export interface ChaosCommandOptions {
  runs: number;
  seed?: number;
  windows: number;
  checkpointEvery: number;
  maxFaults: number;
  /** Fail if the output depends on where window boundaries fall. */
  boundaryIndependent?: boolean;
  /** Compare order per value of this field only (default: the whole order of each window). */
  key?: string;
  /** Run the schedules on this many worker-thread containers, with container kills and hangs. */
  containers?: number;
  cwd?: string;
  out?: NodeJS.WritableStream;
  /** Where progress goes (default process.stderr). */
  err?: NodeJS.WritableStream;
}

export async function chaosCommand(appPath: string, options: ChaosCommandOptions): Promise<number> {
  const app = await loadApp(appPath, options.cwd);
  const out = options.out ?? process.stdout;
  const key = options.key;
  // An option no run could take is bad usage, not a failed schedule with a seed to replay.
  if (options.containers !== undefined && options.containers > 0)
    checkContainerCount(planPhysical(buildDag(app, appPath)), options.containers);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  out.write(`sluice chaos: ${app.name}, ${options.runs} fault schedules, seed ${seed}\n`);
  // The application's own console output would repeat once per run: keep it out of the verdict.
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let verdict: Awaited<ReturnType<typeof chaos>>;
  try {
    verdict = await chaos(app, {
      runs: options.runs,
      seed,
      windows: options.windows,
      checkpointWindowCount: options.checkpointEvery,
      maxFaults: options.maxFaults,
      boundaryIndependent: options.boundaryIndependent,
      containers: options.containers,
      module: resolve(options.cwd ?? process.cwd(), appPath),
      onProgress: chaosProgress(options.err ?? process.stderr),
      keyOf: key === undefined ? undefined : (t: Record<string, unknown>) => t?.[key],
    });
  } finally {
    process.stdout.write = write;
  }
  out.write(`${describeVerdict(verdict)}\n`);
  if (!verdict.ok) {
    const flags = [
      `--runs ${options.runs}`,
      `--seed ${seed}`,
      `--windows ${options.windows}`,
      `--checkpoint-every ${options.checkpointEvery}`,
      `--max-faults ${options.maxFaults}`,
      ...(key === undefined ? [] : [`--key ${shellWord(key)}`]),
      ...(options.boundaryIndependent ? ['--boundary-independent'] : []),
      ...(options.containers === undefined ? [] : [`--containers ${options.containers}`]),
    ];
    out.write(`replay: npx sluice chaos ${shellWord(appPath)} ${flags.join(' ')}\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

/** A word a shell passes on as it is: quoted when it holds anything but path characters. */
export function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
