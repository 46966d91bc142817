import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Application } from '../api/application.ts';
import { DEFAULT_CHECKPOINT_WINDOW_COUNT, DEFAULT_STREAMING_WINDOW_MS } from '../dag/attributes.ts';
import type { LaunchOptions } from '../engine/launch-options.ts';
import { checkRunNumbers, MetricsOffError, type Run } from '../engine/run.ts';
import type { StatusEvent } from '../engine/status.ts';
import type { Supervision, SupervisionConfig } from '../engine/supervision.ts';
import { assignContainers } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { planPhysical } from '../plan/planner.ts';
import { closeAfter } from '../storage/close-after.ts';
import { LevelSnapshotStore } from '../storage/level-snapshot-store.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import { defaultStoreDir } from '../storage/store-dir.ts';
import { ContainerRun } from './container-run.ts';
import { ContainerOptionError } from './errors.ts';
import type { ContainerSupervision } from './supervision.ts';

/**
 * `launch(app, { containers: N, module })`: the application's actors in N worker threads, placed by
 * assignContainers, each worker loading `module` itself. The same Run as in one thread.
 */
export async function startContainerRun(
  app: Application,
  options: LaunchOptions & { containers: number },
  makeSupervision: (config: SupervisionConfig) => Supervision,
  supervision: ContainerSupervision,
): Promise<Run> {
  const { containers, module } = options;
  if (module === undefined) {
    throw new ContainerOptionError(
      'launch option containers needs module: the path or file URL of the application module (each container loads it)',
    );
  }
  if (options.replayFrom === 'buffers') {
    throw new ContainerOptionError(
      "launch option replayFrom 'buffers' cannot be used with containers (a restart replaces whole containers: streams across containers replay what they kept since the commit, the others recompute from the sources); run in one thread (containers: 0, sluice run --containers 0) for replay buffers",
    );
  }
  if (options.instrument !== undefined) {
    throw new ContainerOptionError(
      'launch option instrument cannot be used with containers (a function cannot cross threads)',
    );
  }
  if (typeof options.virtualTime === 'object' && options.virtualTime.cutAt !== undefined) {
    throw new ContainerOptionError(
      'launch option virtualTime.cutAt cannot be used with containers (a function cannot cross threads)',
    );
  }
  for (const f of options.faults ?? []) {
    if (
      !(Number.isSafeInteger(f.container) && f.container >= 0 && f.container < containers && f.window >= 1)
    ) {
      throw new ContainerOptionError(
        `fault container:${f.container}@${f.window} is invalid: containers are 0..${containers - 1}, windows start at 1`,
      );
    }
  }
  const unplaced = planPhysical(app.dag());
  checkContainerCount(unplaced, containers);
  const plan = assignContainers(unplaced, containers);
  const checkpointWindowCount =
    options.checkpointWindowCount ?? app.attributes.checkpointWindowCount ?? DEFAULT_CHECKPOINT_WINDOW_COUNT;
  const streamingWindowMs =
    options.streamingWindowMs ?? app.attributes.streamingWindowMs ?? DEFAULT_STREAMING_WINDOW_MS;
  checkRunNumbers({ ...options, checkpointWindowCount, streamingWindowMs });
  const store: SnapshotStore =
    options.store !== undefined && typeof options.store !== 'string'
      ? options.store
      : new LevelSnapshotStore(resolve(options.store ?? defaultStoreDir(app.name)));
  await store.open();
  const commits = makeSupervision({ checkpointing: checkpointWindowCount > 0, replayFrom: 'sources' });
  const runner = new ContainerRun(
    app,
    plan,
    store,
    { ...options, containers, module, checkpointWindowCount, streamingWindowMs },
    commits,
    supervision,
  );
  const events = new EventEmitter<{ status: [StatusEvent] }>();
  runner.events.on('status', (e) => events.emit('status', e));
  const done = new Promise<void>((r) => setImmediate(r)).then(() =>
    closeAfter(store, () => runner.execute()),
  );
  done.catch(() => {});
  const run = {
    application: app.name,
    plan,
    done,
    on(event: 'status', listener: (e: StatusEvent) => void) {
      events.on(event, listener);
      return run;
    },
    off(event: 'status', listener: (e: StatusEvent) => void) {
      events.off(event, listener);
      return run;
    },
    async stop() {
      await runner.stop();
      await done.catch(() => {});
    },
    async kill() {
      runner.kill();
      await done.catch(() => {});
    },
    stats: () => runner.stats(),
    metrics() {
      if (runner.metrics === null) throw new MetricsOffError();
      return runner.metrics.collector.snapshot();
    },
    collector: runner.metrics?.collector ?? null,
    failActor: (actorId: string, reason = 'failure drill') => runner.failActor(actorId, reason),
  };
  return run as Run;
}

/**
 * Each container is a worker thread that loads the application. A few hosting no actor are harmless (the
 * property tests kill such ones too), but a count like 1000 ran the process out of memory instead of
 * saying so: past one per actor and 4 per core, refused.
 */
export function checkContainerCount(plan: PhysicalPlan, containers: number): void {
  const most = Math.max(plan.actors.length, 4 * availableParallelism());
  if (containers > most) {
    throw new ContainerOptionError(
      `${containers} containers is more than this plan can use (${plan.actors.length} actors, ${availableParallelism()} cores; each container is a worker thread): use at most ${most}`,
    );
  }
}
