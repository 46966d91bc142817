/**
 * The public API of sluice, and the composition root of `launch`: the engine runs under the
 * application supervisor from supervisors/.
 */
import { ApplicationSupervisor } from '../supervisors/application-supervisor.ts';
import type { ClusterSupervisor, SupervisorOptions } from '../supervisors/cluster-supervisor.ts';
import { ContainerSupervisor } from '../supervisors/container-supervisor.ts';
import { RestartStrategy } from '../supervisors/restart-strategy.ts';
import type { Application } from './api/application.ts';
import { defaultContainers } from './container/default-containers.ts';
import { startContainerRun } from './container/launch-containers.ts';
import type { LaunchOptions } from './engine/launch-options.ts';
import { InvalidOptionError, invalidLaunchOption, type Run, startRun } from './engine/run.ts';

export { type Application, application, isApplication } from './api/application.ts';
export { applicationArgs } from './api/application-args.ts';
export type { OperatorContext } from './api/context.ts';
export { DurableMap } from './api/durable-map.ts';
export { FencedOutputError } from './api/errors.ts';
export { InputOperator, Operator, type OperatorClass } from './api/operator.ts';
export {
  type GaugeAggregate,
  MetricCounter,
  MetricGauge,
  MetricNameError,
} from './api/operator-metrics.ts';
export { InputPort, OutputPort } from './api/ports.ts';
export { PassThroughUnifier } from './api/unifier.ts';
export { WindowFencedOutput } from './api/window-fenced-output.ts';
export { connectCluster, startClusterNode } from './cluster-run/api.ts';
export type { ClusterClient, ClusterClientOptions } from './cluster-run/cluster-client.ts';
export type { ClusterNode, NodeOptions } from './cluster-run/node-agent.ts';
export type { AppSummary, ClusterStatus, LaunchRequest } from './cluster-run/supervisor-protocol.ts';
export { defaultContainers } from './container/default-containers.ts';
export { ApplicationDiffersError, ContainerFailure, ContainerOptionError } from './container/errors.ts';
export { SluiceError } from './core/errors.ts';
export { hashKey, partitionOf } from './core/hash.ts';
// Redis URL helpers, for operators that talk to Redis (sluice/actors' Redis inputs and outputs use them).
export {
  confirmDatabase,
  isRedisAuthError,
  REDIS_AUTH_HINT,
  redisDatabaseOf,
} from './core/redis-database.ts';
export { watchSlow } from './core/slow-call.ts';
export { isRedisUrl, redactUrl } from './core/urls.ts';
export type { ApplicationAttributes, Locality, OperatorAttributes } from './dag/attributes.ts';
export type { DagBuilder, StreamBuilder } from './dag/dag-builder.ts';
export { DagError, type DagErrorCode } from './dag/errors.ts';
export type { InputHandle, OutputHandle, PortHandles } from './dag/handles.ts';
export { OperatorFailure } from './engine/failure.ts';
export { WINDOWS_IN_FLIGHT } from './engine/input-driver.ts';
export type { LaunchOptions } from './engine/launch-options.ts';
export { StorePlanMismatchError } from './engine/restore.ts';
export { InvalidOptionError, MetricsOffError, type Run } from './engine/run.ts';
export type { OperatorStats, RunStats, StatusEvent } from './engine/status.ts';
export type {
  ActorMetrics,
  CheckpointMetrics,
  CustomMetricValue,
  EdgeMetrics,
  HistoryPoint,
  LatencySummary,
  MetricsSnapshot,
  OperatorMetrics,
  RecoveryMetrics,
  TimelineEntry,
} from './metrics/types.ts';
export {
  assignContainers,
  ContainerCountError,
  channelTransport,
  containerOf,
  type Transport,
} from './plan/containers.ts';
export type { ActorPlan, ChannelPlan, PhysicalPlan } from './plan/physical-plan.ts';
export { planPhysical } from './plan/planner.ts';
export {
  SnapshotCorruptError,
  StateNotRestorableError,
  StoreDamagedError,
  StoreLockedError,
  StorePathError,
} from './storage/errors.ts';
export { LevelSnapshotStore } from './storage/level-snapshot-store.ts';
export { MemorySnapshotStore } from './storage/memory-snapshot-store.ts';
export {
  RedisSnapshotStore,
  type RedisSnapshotStoreOptions,
  StoreConnectionLostError,
  StoreUnreachableError,
} from './storage/redis-snapshot-store.ts';
export { StoreLeaseLostError } from './storage/redis-store-lock.ts';
export type { SnapshotStore } from './storage/snapshot-store.ts';
export type { ClusterSupervisor, SupervisorOptions };
export { RestartStrategy };

export interface LaunchOptionsWithSupervision extends LaunchOptions {
  /** What to do when an operator fails. Default: RestartStrategy.restart() (5 within 60 s). */
  restart?: RestartStrategy;
  /**
   * Launch on the cluster whose supervisor listens here (`ws://HOST:PORT`; several, comma-separated)
   * instead of in this process, as `sluice launch APP --cluster URL` does; needs `module`. The
   * supervisor's own options (restart strategy, stores) apply there.
   */
  cluster?: string;
  /** The cluster secret for `cluster`; default SLUICE_SECRET from the environment. */
  secret?: Buffer | string;
}

/**
 * Runs an application in this process: on worker-thread containers (`containers`, default: the number of
 * cores when `module` is given, see defaultContainers), or in this thread (`containers: 0`).
 */
export function launch(app: Application, options: LaunchOptionsWithSupervision = {}): Promise<Run> {
  const invalid =
    invalidLaunchOption(options) ??
    (options.restart !== undefined && !isRestartStrategy(options.restart)
      ? new InvalidOptionError(
          'launch option restart must be a RestartStrategy (RestartStrategy.restart(), RestartStrategy.stop(), …)',
        )
      : undefined);
  if (invalid) return Promise.reject(invalid);
  if (options.cluster !== undefined) {
    const cluster = options.cluster;
    // Imported when asked for: an application module imports 'sluice' and must not load ws for that.
    return import('./cluster-run/launched-run.ts').then((m) =>
      m.launchOnCluster(app, { ...options, cluster }),
    );
  }
  const containers = options.containers ?? defaultContainers(app, options);
  if (containers !== 0) {
    const supervision = new ContainerSupervisor(options.restart, options.heartbeatTimeoutMs);
    return startContainerRun(
      app,
      { ...options, containers },
      (config) => new ApplicationSupervisor(options.restart, config),
      supervision,
    );
  }
  return startRun(app, options, (config) => new ApplicationSupervisor(options.restart, config));
}

/**
 * Starts a cluster supervisor listening on `options.host:port` (`supervisor.url` to join it). Imported
 * when called: every application module imports 'sluice' and must not load the supervisor for that.
 */
export async function startClusterSupervisor(options: SupervisorOptions): Promise<ClusterSupervisor> {
  const { ClusterSupervisor } = await import('../supervisors/cluster-supervisor.ts');
  return ClusterSupervisor.start(options);
}

/** By shape, not instanceof: an application may import another copy of sluice than the command's. */
function isRestartStrategy(v: unknown): v is RestartStrategy {
  const r = v as Partial<RestartStrategy> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.maxRestarts === 'number' &&
    typeof r.withinMs === 'number' &&
    typeof r.backoff === 'object'
  );
}
