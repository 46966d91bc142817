/**
 * `launch(app, { cluster: URL, module })`: the application launched on a cluster from code, as
 * `sluice launch APP --cluster URL` does, behind the same Run interface as a run in this process. The
 * supervisor runs it; this end asks the supervisor how it is doing (twice a second) and turns that into
 * status events: started, window, commit, restart, stopped, and `stats()` (the supervisor's counters, as of
 * the last answer). Operator metrics, taps and failure drills live with the supervisor (`sluice supervisor --metrics/--console`).
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Application } from '../api/application.ts';
import { loadSecret } from '../cluster/secret.ts';
import type { LaunchOptions } from '../engine/launch-options.ts';
import { InvalidOptionError, type Run } from '../engine/run.ts';
import type { RunStats, StatusEvent } from '../engine/status.ts';
import type { MetricsSnapshot } from '../metrics/types.ts';
import { planPhysical } from '../plan/planner.ts';
import { ClusterClient } from './cluster-client.ts';
import type { AppSummary } from './supervisor-protocol.ts';

const POLL_MS = 500;

/** The options a cluster launch uses; the others (stores, spares, faults) are the supervisor's and nodes'. */
export interface ClusterLaunchOptions extends LaunchOptions {
  /** The supervisor's URL (`ws://HOST:PORT`; several, comma-separated: the first that answers). */
  cluster: string;
  /** The cluster secret; default SLUICE_SECRET from the environment. */
  secret?: Buffer | string;
}

export async function launchOnCluster(app: Application, options: ClusterLaunchOptions): Promise<Run> {
  if (options.module === undefined) {
    throw new InvalidOptionError(
      'launch option cluster needs module (the application module’s path or file URL, as the nodes load it from their own disks): launch(app, { cluster, module: new URL(import.meta.url) })',
    );
  }
  const module = String(options.module);
  const path = module.startsWith('file:') ? fileURLToPath(module) : module;
  const secret =
    typeof options.secret === 'string' ? Buffer.from(options.secret) : (options.secret ?? loadSecret());
  const client = await ClusterClient.connectFirst(options.cluster, { secret });
  try {
    const started = await client.launch(path, {
      windows: options.windows,
      streamingWindowMs: options.streamingWindowMs,
      checkpointWindowCount: options.checkpointWindowCount,
      containers: options.containers,
      virtualTime: options.virtualTime === undefined ? undefined : options.virtualTime !== false,
    });
    return new ClusterLaunchedRun(app, client, started);
  } catch (e) {
    client.close();
    throw e;
  }
}

class ClusterLaunchedRun extends EventEmitter implements Run {
  readonly application: string;
  readonly plan;
  readonly done: Promise<void>;
  readonly collector = null;
  private last: AppSummary;
  private readonly poll: NodeJS.Timeout;

  constructor(
    app: Application,
    private readonly client: ClusterClient,
    started: AppSummary,
  ) {
    super();
    this.application = started.name;
    this.plan = planPhysical(app.dag());
    this.last = started;
    this.poll = setInterval(() => void this.refresh(), POLL_MS);
    this.done = this.client.wait(started.name).then(
      (ended) => this.ended(ended),
      (e: unknown) => this.ended(undefined, e),
    );
    // Listeners attach after launch() resolves: the first events go out on the next turn.
    setImmediate(() =>
      this.emit('status', {
        type: 'started',
        application: started.name,
        actors: this.plan.actors.length,
        firstWindow: started.window + 1,
        restoredWindow: started.committed,
      } satisfies StatusEvent),
    );
  }

  override on(event: 'status', listener: (e: StatusEvent) => void): this {
    return super.on(event, listener);
  }

  override off(event: 'status', listener: (e: StatusEvent) => void): this {
    return super.off(event, listener);
  }

  private async refresh(): Promise<void> {
    try {
      const status = await this.client.status();
      const now = status.apps.find((a) => a.name === this.application);
      if (now) this.progressed(now);
    } catch {
      // The supervisor is away (restarting, or a standby taking over): `done` says how it ends.
    }
  }

  private progressed(now: AppSummary): void {
    const before = this.last;
    this.last = now;
    for (let r = before.restarts + 1; r <= now.restarts; r++) {
      this.emitStatus({
        type: 'restart',
        actors: this.plan.actors.map((a) => a.id),
        window: now.committed,
        attempt: r,
        restarts: r,
        delayMs: 0,
      });
    }
    for (let w = before.window + 1; w <= now.window; w++)
      this.emitStatus({ type: 'window', window: w, tuples: now.tuples ?? 0 });
    if (now.committed > before.committed) this.emitStatus({ type: 'commit', window: now.committed });
  }

  private ended(summary: AppSummary | undefined, error?: unknown): void {
    clearInterval(this.poll);
    this.client.close();
    if (summary === undefined) throw error;
    this.progressed(summary);
    const ok = summary.state === 'done' || summary.state === 'stopped';
    this.emitStatus({
      type: 'stopped',
      window: summary.window,
      committed: summary.committed,
      reason: ok ? (summary.state === 'done' ? 'windows' : 'stop') : 'failure',
      ...(summary.unfinished !== undefined ? { unfinished: summary.unfinished } : {}),
    });
    if (!ok)
      throw new Error(
        `${summary.name} ${summary.state} on the cluster: ${summary.error ?? 'no reason given'}`,
      );
  }

  private emitStatus(e: StatusEvent): void {
    this.emit('status', e);
  }

  async stop(): Promise<void> {
    await this.client.stop(this.application).catch(() => {});
    await this.done.catch(() => {});
  }

  async kill(): Promise<void> {
    await this.client.kill(this.application).catch(() => {});
    await this.done.catch(() => {});
  }

  stats(): RunStats {
    const s = this.last;
    return {
      window: s.window,
      committed: s.committed,
      restarts: s.restarts,
      tuples: s.tuples ?? 0,
      operators: (s.operators ?? []).map((o) => ({ ...o })),
    };
  }

  metrics(): MetricsSnapshot {
    throw new InvalidOptionError(
      'metrics of an application on a cluster are the supervisor’s: sluice supervisor --metrics HOST:PORT',
    );
  }

  failActor(): boolean {
    return false;
  }
}
