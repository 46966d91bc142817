import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationSupervisor } from '../../supervisors/application-supervisor.ts';
import { ContainerSupervisor } from '../../supervisors/container-supervisor.ts';
import { RestartStrategy } from '../../supervisors/restart-strategy.ts';
import type { Application } from '../api/application.ts';
import { startContainerRun } from '../container/launch-containers.ts';
import { SluiceError } from '../core/errors.ts';
import type { LaunchOptions } from '../engine/launch-options.ts';
import { type Run, startRun } from '../engine/run.ts';
import type { StatusEvent } from '../engine/status.ts';
import { assignContainers } from '../plan/containers.ts';
import { planPhysical } from '../plan/planner.ts';
import {
  emptyMemoryStoreData,
  MemorySnapshotStore,
  type MemoryStoreData,
} from '../storage/memory-snapshot-store.ts';
import { containerAppModule, firedFaults, readRecordings, writeConfig } from './cross-thread.ts';
import { type Fault, FaultInjector, isCut } from './faults.ts';
import { instrumentPlan } from './instrument.ts';
import { OutputRecorder, type SinkOutputs } from './output-recorder.ts';

export interface TestRunOptions {
  windows: number;
  checkpointWindowCount?: number;
  faults?: readonly Fault[];
  mailboxCapacity?: number;
  batchSize?: number;
  /** Default: restart up to 1000 times, no backoff (the faults are the point). */
  restart?: RestartStrategy;
  debug?: { skipDedupe?: boolean; skipReplay?: boolean };
  /** Run on the real clock with windows of this many ms instead of virtual time (slower; timing paths). */
  realTimeWindowMs?: number;
  /** See LaunchOptions.replayFrom. */
  replayFrom?: 'buffers' | 'sources';
  /** A run that finishes no window for this long (wall clock) is killed and reported as stalled. Default 5 s (60 s on containers). */
  stallMs?: number;
  /** Every status event of every launch (including relaunches). */
  onStatus?: (event: StatusEvent) => void;
  /**
   * Window boundaries to hold to (another run's `boundaries`): each input operator's windows are cut at
   * these counts, as a replay is. So a fault-free run on virtual time can be compared with a run on the
   * real clock, whose boundaries depended on timing.
   */
  boundaries?: WindowBoundaries;
  /**
   * Run on this many worker-thread containers (needs `module`). Container kills go to the runtime's
   * drills; operator throws and container hangs reach the workers through cross-thread.ts; store faults and
   * relaunches work as in one thread; timing faults (cuts) cannot be used. 1 or undefined: one thread, and
   * container faults are ignored.
   */
  containers?: number;
  /** The application module (path or file URL) whose default export is `app`: each container loads it. */
  module?: string | URL;
  /** Containers: a container silent this long counts as hung and is replaced. Default 3 s. */
  heartbeatTimeoutMs?: number;
}

/** Input operator → window → tuples emitted per output port (its window log). */
export type WindowBoundaries = Map<string, Map<number, number[]>>;

export interface TestRunResult {
  /** What each sink actor applied, per window (exactly-once fenced, as a transactional output would). */
  outputs: SinkOutputs;
  /** Windows replayed with other tuples than their first pass. */
  replayMismatches: string[];
  faultsFired: Fault[];
  /** Windows actors were restored at, by in-process recovery or by a relaunch (0: from scratch). */
  restoredAt: number[];
  relaunches: number;
  /** Where each input operator's windows ended (first pass; a replay is cut at the same place). */
  boundaries: WindowBoundaries;
  /**
   * Set when the run stopped with an error (a failure that escalated), or when an exactly-once output
   * (WindowFencedOutput) applied a window twice (SLUICE_DUPLICATE_APPLY: its lastAppliedWindow or claim
   * does not hold what it applied).
   */
  error?: Error;
}

/**
 * Runs an application in this process on virtual time with a fault schedule, relaunching it on the
 * same (in-memory) store when a relaunch fault kills it, and records every sink's per-window output.
 */
export async function runWithFaults(app: Application, options: TestRunOptions): Promise<TestRunResult> {
  for (const f of options.faults ?? []) checkFault(f);
  const data = emptyMemoryStoreData();
  const injector = new FaultInjector(options.faults ?? []);
  const recorder = new OutputRecorder(!options.debug?.skipDedupe);
  const restoredAt: number[] = [];
  const boundaries: WindowBoundaries = new Map();
  if (options.boundaries) await holdTo(options.boundaries, new FaultyStore(data, injector, boundaries));
  let relaunches = 0;
  let error: Error | undefined;
  const cutAt = (actor: string, window: number) => injector.cutAt(actor, window);
  const restart = options.restart ?? RestartStrategy.restart().withLimit(1000, 60_000).withBackoff(0, 0);
  const threads = (options.containers ?? 1) > 1 ? containerLaunch(app, options) : undefined;
  let reached = 0; // the newest window done in any launch (container kills up to it have fired)
  for (;;) {
    recorder.newLaunch();
    const relaunch = injector.nextRelaunch();
    const shared = {
      store: new FaultyStore(data, injector, boundaries),
      windows: options.windows,
      streamingWindowMs: options.realTimeWindowMs,
      checkpointWindowCount: options.checkpointWindowCount ?? 2,
      mailboxCapacity: options.mailboxCapacity,
      batchSize: options.batchSize,
      debug: options.debug,
    };
    const run = threads
      ? await threads.launch(
          { ...shared, virtualTime: options.realTimeWindowMs === undefined },
          reached,
          restart,
        )
      : await startRun(
          app,
          {
            ...shared,
            virtualTime: options.realTimeWindowMs === undefined && { cutAt },
            replayFrom: options.replayFrom,
            instrument: (plan) => instrumentPlan(plan, injector, recorder),
          },
          (config) => new ApplicationSupervisor(restart, config),
        );
    let killed = false;
    let snapshotsOfWindow = 0;
    let stalled: Error | undefined;
    let lastWindow = 0;
    // Containers take seconds to spawn on a loaded machine, and a hang seconds to be noticed.
    const stallMs = options.stallMs ?? (threads ? 60_000 : 5_000);
    const watchdog = setInterval(() => {
      if (stalled || killed) return;
      stalled = new Error(
        `the run stalled: no window finished for ${stallMs} ms (last finished: ${lastWindow})`,
      );
      void run.kill();
    }, stallMs);
    run.on('status', (e) => {
      options.onStatus?.(e);
      if (e.type === 'window') {
        lastWindow = e.window;
        reached = Math.max(reached, e.window);
        watchdog.refresh();
      }
      if (e.type === 'restart') restoredAt.push(e.window);
      if (e.type === 'started' && relaunches > 0) restoredAt.push(e.restoredWindow);
      if (e.type === 'checkpoint' && e.window === relaunch?.window) snapshotsOfWindow++;
      const due = relaunch?.atSnapshot
        ? (e.type === 'checkpoint' && snapshotsOfWindow >= relaunch.atSnapshot) ||
          (e.type === 'window' && e.window > relaunch.window)
        : e.type === 'window' && e.window >= (relaunch?.window ?? Number.POSITIVE_INFINITY);
      if (relaunch && !killed && due) {
        killed = true;
        injector.fire(relaunch);
        void run.kill();
      }
    });
    try {
      await run.done;
    } catch (e) {
      error = e as Error;
      break;
    } finally {
      clearInterval(watchdog);
    }
    if (stalled) {
      error = stalled;
      break;
    }
    if (!killed) break;
    relaunches++;
  }
  const faultsFired = threads ? threads.finish(recorder, injector.fired, reached) : injector.fired;
  if (error === undefined && recorder.duplicateApplies.length > 0) {
    error = new SluiceError('SLUICE_DUPLICATE_APPLY', recorder.duplicateApplies[0]!);
  }
  return {
    outputs: recorder.outputs,
    replayMismatches: recorder.replayMismatches,
    faultsFired,
    restoredAt,
    relaunches,
    boundaries,
    error,
  };
}

/**
 * Launches on containers: each worker loads container-app.ts, which loads `module` and wraps it for the
 * schedule's throws and hangs and to record the sinks, through a scratch directory (cross-thread.ts).
 */
function containerLaunch(app: Application, options: TestRunOptions) {
  const containers = options.containers!;
  if (options.module === undefined)
    throw new Error(
      'runWithFaults: containers needs module, the application module (each container loads it)',
    );
  const faults = options.faults ?? [];
  if (faults.some(isCut) || options.boundaries)
    throw new Error('runWithFaults: timing faults and held boundaries cannot be used with containers');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-testkit-'));
  const m = options.module;
  const appUrl = m instanceof URL ? m.href : m.startsWith('file:') ? m : pathToFileURL(m).href;
  const placed = assignContainers(planPhysical(app.dag()), containers);
  const containerOf = Object.fromEntries(placed.actors.map((a) => [a.id, a.container ?? 0]));
  writeConfig(dir, { app: appUrl, faults, containerOf });
  const module = containerAppModule(dir);
  const kills = faults.filter((f) => f.kind === 'container-kill');
  return {
    /** A launch; the kills of windows already reached fired in an earlier launch. */
    launch(shared: LaunchOptions, reached: number, restart: RestartStrategy): Promise<Run> {
      const drills = kills
        .filter((f) => f.window > reached)
        .map((f) => ({ kind: 'container' as const, container: f.container, window: f.window }));
      return startContainerRun(
        app,
        { ...shared, containers, module, faults: drills, heartbeatTimeoutMs: options.heartbeatTimeoutMs },
        (config) => new ApplicationSupervisor(restart, config),
        new ContainerSupervisor(restart, options.heartbeatTimeoutMs),
      );
    },
    /** Reads the sinks' recordings and what fired, and removes the scratch directory. */
    finish(recorder: OutputRecorder, firedInThisThread: Fault[], reached: number): Fault[] {
      try {
        readRecordings(dir, recorder);
        // A container with no actors never reaches a window: its kill never fires.
        const hosts = new Set(Object.values(containerOf));
        const killed = kills.filter((f) => f.window <= reached && hosts.has(f.container));
        return [...firedInThisThread, ...firedFaults(dir, faults), ...killed];
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Writes the boundaries as window-log entries into a fresh store: the first launch replays them. */
async function holdTo(held: WindowBoundaries, store: MemorySnapshotStore): Promise<void> {
  await store.open();
  for (const [actor, windows] of held) {
    for (const [window, counts] of windows) await store.appendWindowLog(actor, window, { counts });
  }
  await store.close();
}

/** The in-memory store, with snapshot writes that fail where the schedule says. */
class FaultyStore extends MemorySnapshotStore {
  constructor(
    data: MemoryStoreData,
    private readonly injector: FaultInjector,
    private readonly boundaries: WindowBoundaries,
  ) {
    super({ data });
  }

  override appendWindowLog(actorId: string, window: number, entry: { counts: number[] }): Promise<void> {
    let windows = this.boundaries.get(actorId);
    if (!windows) this.boundaries.set(actorId, (windows = new Map()));
    if (!windows.has(window)) windows.set(window, [...entry.counts]);
    return super.appendWindowLog(actorId, window, entry);
  }

  override saveSnapshot(actorId: string, window: number, state: unknown): Promise<void> {
    try {
      this.injector.checkStore(actorId, window);
    } catch (e) {
      return Promise.reject(e);
    }
    const written = super.saveSnapshot(actorId, window, state);
    if (!this.injector.takeCorruption(actorId, window)) return written;
    return written.then(() => this.corrupt(actorId, window));
  }
}

const FAULT_KINDS = new Set([
  'throw',
  'relaunch',
  'store',
  'corrupt',
  'cut',
  'container-kill',
  'container-hang',
]);

/**
 * A fault this kit would never fire is refused, not ignored: an unknown kind (`{ kind: 'container' }` is
 * launch()'s drill, here 'container-kill'), or a container fault at no window a run has.
 */
function checkFault(f: Fault): void {
  const kind = (f as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !FAULT_KINDS.has(kind))
    throw new SluiceError(
      'SLUICE_INVALID_OPTION',
      `runWithFaults: unknown fault kind ${JSON.stringify(kind)} (one of ${[...FAULT_KINDS].join(', ')}; a container kill is 'container-kill' here)`,
    );
  if (f.kind === 'container-kill' || f.kind === 'container-hang') {
    if (
      !Number.isSafeInteger(f.container) ||
      f.container < 0 ||
      !Number.isSafeInteger(f.window) ||
      f.window < 1
    )
      throw new SluiceError(
        'SLUICE_INVALID_OPTION',
        `runWithFaults: ${f.kind} needs a container number ≥ 0 and a window ≥ 1 (windows start at 1), got ${JSON.stringify(f)}`,
      );
  }
}
