/**
 * `sluice run APP`: loads the application, launches it on its store, logs its status and progress
 * until it is done (or stopped by Ctrl-C), and returns the exit code.
 */

import { resolve } from 'node:path';
import { ContainerFailure } from '../container/errors.ts';
import { isRedisUrl } from '../core/urls.ts';
import {
  assignContainers,
  defaultContainers,
  launch,
  type PhysicalPlan,
  planPhysical,
  RedisSnapshotStore,
  type Run,
  StorePlanMismatchError,
} from '../index.ts';
import { defaultStoreDir } from '../storage/store-dir.ts';
import { actorDrills, containerDrills, type Drill, describeDrill } from './drills.ts';
import { CliError, EXIT_OK } from './errors.ts';
import { buildDag, loadApp } from './load-app.ts';
import { createLogger, type Logger } from './logger.ts';
import { logWindows, type ObserveOptions, startObservers } from './observe.ts';
import { startProgress } from './progress.ts';
import { handleStopSignals } from './signals.ts';
import { causeStack } from './stack.ts';
import { logStatus } from './status-log.ts';

export interface RunCommandOptions extends ObserveOptions {
  store?: string;
  windowMs?: number;
  windows?: number;
  checkpointEvery?: number;
  replayFrom?: 'buffers' | 'sources';
  json: boolean;
  /** Failure drills (`--fault actor:ID@W`, `--fault container:N@W`), in the order given. */
  fault?: Drill[];
  /** Worker-thread containers to run on (container drills need ≥ 2). */
  containers?: number;
  /** A container silent this long is replaced (`--heartbeat-timeout`). */
  heartbeatTimeout?: number;
  /** An operator's asynchronous call that does not settle this long fails it (`--lifecycle-timeout`). */
  lifecycleTimeout?: number;
  /** Directory APP and --store are relative to (default process.cwd()). */
  cwd?: string;
}

/**
 * `--containers N`: N worker-thread containers, 0 every actor in this thread; no flag: the number of cores,
 * capped by what the plan can spread over (defaultContainers; this thread with --replay-from buffers).
 * Undefined for this thread.
 */
function containerCount(options: RunCommandOptions, plan: PhysicalPlan): number | undefined {
  const flag = options.containers;
  if (flag !== undefined && flag > 0 && options.replayFrom === 'buffers') {
    throw new CliError(
      `--replay-from buffers cannot be used with --containers ${flag}: on containers, streams across containers replay what they kept since the commit and the others recompute from the sources; use --containers 0 (this thread) for replay buffers`,
    );
  }
  const n = flag ?? defaultContainers(plan, { module: 'APP', replayFrom: options.replayFrom });
  return n > 0 ? n : undefined;
}

/** Resolves with the exit code; throws (for errors.ts to explain) when the run cannot start or fails. */
export async function runCommand(appPath: string, options: RunCommandOptions): Promise<number> {
  const log = createLogger({ json: options.json });
  // Ctrl-C is heard from the start: while the application loads and launches (seconds on containers), a
  // stop asked for is carried out once the run exists, after its first window, never a silent exit.
  const stop: StopRequest = { run: undefined, asked: false };
  const removeSignalHandlers = handleStopSignals(
    () => {
      stop.asked = true;
      stop.run?.stop().catch(() => {}); // a failure surfaces through run.done
    },
    log,
    undefined,
    options.json,
  );
  try {
    return await runUntilDone(appPath, options, log, stop);
  } finally {
    removeSignalHandlers();
  }
}

interface StopRequest {
  run: Run | undefined;
  asked: boolean;
}

async function runUntilDone(
  appPath: string,
  options: RunCommandOptions,
  log: Logger,
  stop: StopRequest,
): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  // An empty path would resolve to the working directory: LevelDB's files among the user's own.
  if (options.store?.trim() === '') throw new CliError('--store needs a directory or a redis:// URL, got ""');
  const app = await loadApp(appPath, cwd);
  // --store redis://HOST:PORT[/DB] puts the snapshots in Redis (keys {APP name}:...); a killed run's store
  // lease runs out within 10 s, so a relaunch waits that long for it before reporting the store locked.
  const redisStore = isRedisUrl(options.store ?? '')
    ? new RedisSnapshotStore(options.store!, {
        name: app.name,
        leaseMs: 10_000,
        lockWaitMs: 11_000,
        // A lost connection, a lease renewal that failed, a call the server has not answered for seconds.
        onWarning: (message) => log.warn({ event: 'store' }, message),
      })
    : undefined;
  const store = redisStore?.location ?? resolve(cwd, options.store ?? defaultStoreDir(app.name));
  // Drills are checked before anything is opened: a typo in an actor id is a usage error, not a run.
  const drills = options.fault ?? [];
  const plan = planPhysical(buildDag(app, appPath));
  const containers = containerCount(options, plan);
  if (containers === undefined && options.heartbeatTimeout !== undefined) {
    log.warn(
      { event: 'option', option: 'heartbeat-timeout', effective: false },
      '--heartbeat-timeout has no effect: every actor runs in this thread (heartbeats are for containers)',
    );
  }
  const hosting =
    containers === undefined
      ? undefined
      : new Set(assignContainers(plan, containers).actors.map((a) => a.container ?? 0));
  containerDrills(drills, containers, hosting);
  // Containers load the application module themselves, by its path (or the drills' module wrapping it).
  const appFile = containers === undefined ? undefined : resolve(cwd, appPath);
  const actorDrill = drills.length > 0 ? actorDrills(drills, plan, appFile) : undefined;
  // Before the launch: an address in use or refused leaves the store untouched.
  const observers = await startObservers(app.name, options, log);
  // launch() builds the DAG again: a constructor that throws only then is reported as the first build's.
  const rebuilt = { ...app, dag: () => buildDag(app, appPath) };
  const run = await launch(rebuilt, {
    store: redisStore ?? store,
    streamingWindowMs: options.windowMs,
    windows: options.windows,
    checkpointWindowCount: options.checkpointEvery,
    replayFrom: options.replayFrom,
    // Someone watching wants every operator's count: fused streams too (a count per tuple there).
    metrics:
      options.metrics !== undefined || options.console !== undefined ? { fusedTuples: true } : undefined,
    instrument: actorDrill?.launch.instrument,
    containers: containers ?? 0,
    heartbeatTimeoutMs: options.heartbeatTimeout,
    lifecycleTimeoutMs: options.lifecycleTimeout,
    module: actorDrill?.launch.module ?? appFile,
    faults: drills.flatMap((d) => (d.kind === 'container' ? [{ ...d, kind: 'container' as const }] : [])),
  });
  observers.attach(run);
  if (options.json) run.on('status', logWindows(log, run));
  let stopProgress = () => {};
  let started = false;
  const firedContainerDrills = new Set<string>();
  const reportedFailures = new Set<string>();
  run.on('status', (e) => {
    if (e.type === 'started') {
      started = true;
      log.info({ event: 'store', store }, `store ${store}`);
      log.info(
        { event: 'containers', containers: containers ?? 0 },
        containers === undefined
          ? 'every actor in this thread'
          : `on ${containers} worker-thread containers (--containers 0 runs every actor in this thread)`,
      );
      stopProgress = startProgress(() => run.stats(), log);
      const last = e.firstWindow - 1;
      if (options.windows !== undefined && options.windows <= last) {
        log.warn(
          { event: 'warning' },
          `--windows ${options.windows} is at or before window ${last}, where this store already is: nothing to run (--windows is the last window's id, not a count: --windows ${last + options.windows} runs ${options.windows} more)`,
        );
        // Not "started … first window N+1": no window starts (the JSON line still reports the event).
        if (!options.json) return;
      }
    }
    // A container drill fires as that container's failure, which names the drill.
    if (e.type === 'failure' && e.error instanceof ContainerFailure && e.error.drill !== undefined) {
      firedContainerDrills.add(e.error.drill);
    }
    if (e.type === 'failure') reportedFailures.add(`${e.actorId}@${e.window}`);
    logStatus(log, e, options.json);
  });
  stop.run = run;
  if (stop.asked) run.stop().catch(() => {});
  const unfired = () => {
    const fired = actorDrill?.fired() ?? [];
    for (const d of drills) {
      const drill = describeDrill(d);
      if (
        d.kind === 'actor' &&
        fired.some((f) => f.kind === 'throw' && f.actor === d.actor && f.window === d.window)
      ) {
        // Thrown in a container that was being replaced anyway (a container drill at the window before):
        // the failure died with its worker, and this run did not exercise it.
        if (!reportedFailures.has(`${d.actor}@${d.window}`)) {
          log.warn(
            { event: 'drill', drill, fired: true, reported: false },
            `--fault ${drill} went off, but its failure was never reported: its container was replaced at that moment (by another drill?), so this run did not recover from it`,
          );
        }
        continue;
      }
      if (d.kind !== 'actor' && firedContainerDrills.has(drill)) continue;
      log.warn(
        { event: 'drill', drill, fired: false },
        `--fault ${drill} did not fire: this run did not start window ${d.window}`,
      );
    }
  };
  try {
    await run.done;
    unfired();
  } catch (e) {
    const { restarts, committed } = run.stats();
    const error = e instanceof Error ? { code: (e as { code?: unknown }).code, message: e.message } : {};
    const entry = { event: 'failed', restarts, committed, store, error: { ...error, stack: causeStack(e) } };
    if (e instanceof StorePlanMismatchError || !started) {
      // Refused before the first window (a plan mismatch, a damaged store): the store's own commits are
      // untouched, and "nothing was committed" would be false (the error says how far it got).
      const committedBefore = e instanceof StorePlanMismatchError ? e.committed : undefined;
      log.error(
        { ...entry, committed: committedBefore },
        `the run did not start; ${store} is left as it was`,
      );
    } else {
      const next =
        committed > 0
          ? `relaunched on ${store}, a fixed build continues after window ${committed}`
          : `nothing was committed to ${store}`;
      log.error(entry, `the run failed after ${restarts} restart${restarts === 1 ? '' : 's'}; ${next}`);
    }
    throw e;
  } finally {
    stopProgress();
    actorDrill?.close();
    await observers.close();
  }
  return EXIT_OK;
}
