import { join as joinPath, resolve } from 'node:path';
import { type Application, isApplication } from '../src/api/application.ts';
import type { ClusterEvent } from '../src/cluster/connection-state.ts';
import { ClusterProtocolError } from '../src/cluster/errors.ts';
import type { ClusterFrame } from '../src/cluster/frames.ts';
import type { PeerConnection } from '../src/cluster/peer-connection.ts';
import { ClusterServer } from '../src/cluster/server.ts';
import { appBuildHash, runtimeBuild } from '../src/cluster-run/build-hash.ts';
import {
  ClusterRun,
  type ClusterRunOptions,
  type NodeDirectory,
  type NodeSlot,
} from '../src/cluster-run/cluster-run.ts';
import { serveStoreCall } from '../src/cluster-run/cluster-store.ts';
import { ClusterRequestError, NotAnApplicationError } from '../src/cluster-run/errors.ts';
import type { HostedAnnounce, NodeEvent } from '../src/cluster-run/node-protocol.ts';
import { ClusterCallError, Rpc } from '../src/cluster-run/rpc.ts';
import type { AppSummary, ClusterStatus, LaunchRequest } from '../src/cluster-run/supervisor-protocol.ts';
import { DEFAULT_CHECKPOINT_WINDOW_COUNT, DEFAULT_STREAMING_WINDOW_MS } from '../src/dag/attributes.ts';
import { checkRunNumbers } from '../src/engine/run.ts';
import type { StatusEvent } from '../src/engine/status.ts';
import { assignContainers } from '../src/plan/containers.ts';
import { planPhysical } from '../src/plan/planner.ts';
import { LevelSnapshotStore } from '../src/storage/level-snapshot-store.ts';
import { RedisSnapshotStore } from '../src/storage/redis-snapshot-store.ts';
import type { SnapshotStore } from '../src/storage/snapshot-store.ts';
import { storeDirName } from '../src/storage/store-dir.ts';
import { ApplicationSupervisor } from './application-supervisor.ts';
import { ClusterMembership } from './cluster-membership.ts';
import { LaunchRegistry } from './cluster-registry.ts';
import { ContainerSupervisor } from './container-supervisor.ts';
import type { RestartStrategy } from './restart-strategy.ts';

export type SupervisorOptions = {
  host: string;
  /** 0: a free port (tests). */
  port: number;
  /** A directory (one LevelDB store per application under it) or redis://HOST:PORT[/DB]. */
  store: string;
  secret?: Buffer;
  restart?: RestartStrategy;
  /** Heartbeat interval of node connections (a node is dead after 3 missed). Default 1000 ms. */
  heartbeatMs?: number;
  log?: (line: string) => void;
  /** Every status event of every application (tests, the command's log). */
  onStatus?: (app: string, event: StatusEvent) => void;
  /** The containers' metrics, for every application (default on; `--metrics`, `--console`: fused counted). */
  metrics?: ClusterRunOptions['metrics'];
};

/** How long an authenticated connection has to say what it is (a node's join, a launcher's call). */
const ADMIT_MS = 5000;

const LIVE: readonly string[] = ['starting', 'running', 'recovering'];

type Node = {
  nodeId: string;
  slots: number;
  rpc: Rpc;
  dataUrl?: string;
  /** What it announced running when it joined (containers kept through a supervisor restart). */
  hosting?: readonly HostedAnnounce[];
};
type AppEntry = { run: ClusterRun; done: Promise<void>; error?: string };

/**
 * The cluster supervisor (Apex's application master for every application of the cluster): it admits
 * nodes (authenticated, same runtime build), takes launch / status / kill requests from launchers on the
 * same port, places each application's containers on nodes (ClusterRun), serves the nodes' snapshot
 * store calls from its own store, and restarts an application's containers elsewhere when a node is lost.
 */
export class ClusterSupervisor {
  readonly #server: ClusterServer;
  readonly #o: SupervisorOptions;
  readonly #nodes = new Map<string, Node>();
  readonly #apps = new Map<string, AppEntry>();
  readonly #membership: ClusterMembership;
  readonly #registry: LaunchRegistry;
  /**
   * Applications of the registry this supervisor is still to resume (it waits for a node to join),
   * each settled once it is running here or could not be resumed: a call naming one (status, kill,
   * stop, wait) in that gap is answered for it rather than "no application".
   */
  readonly #resuming = new Map<string, { settled: Promise<void>; settle: () => void; launching: boolean }>();
  #closing = false;
  readonly #started = performance.now();

  private constructor(server: ClusterServer, membership: ClusterMembership, options: SupervisorOptions) {
    this.#server = server;
    this.#membership = membership;
    this.#o = options;
    this.#registry = new LaunchRegistry(options.store);
    for (const [name] of this.#registry.entries()) {
      let settle!: () => void;
      const settled = new Promise<void>((r) => (settle = r));
      this.#resuming.set(name, { settled, settle, launching: false });
    }
  }

  static async start(options: SupervisorOptions): Promise<ClusterSupervisor> {
    let self: ClusterSupervisor | undefined;
    const membership = new ClusterMembership({
      build: runtimeBuild(),
      onEvent: (e) => self?.membershipEvent(e),
      onFrame: (nodeId, f) => self?.nodeFrame(nodeId, f),
    });
    const server = await ClusterServer.listen({
      host: options.host,
      port: options.port,
      secret: options.secret,
      heartbeatMs: options.heartbeatMs,
      onEvent: (e: ClusterEvent) => {
        if (e.event === 'refused') options.log?.(`refused ${e.remote}: ${e.code} ${e.reason}`);
      },
      onPeer: (peer) => self?.admit(peer),
    });
    self = new ClusterSupervisor(server, membership, options);
    void self.resume();
    return self;
  }

  get port(): number {
    return this.#server.port;
  }

  get url(): string {
    const h = this.#o.host;
    return `ws://${h.includes(':') ? `[${h}]` : h}:${this.port}`;
  }

  /** A connection's first frame says what it is: a node's join, or a launcher's call. */
  private admit(peer: PeerConnection): void {
    const refuse = (reason: string) =>
      peer.refuse(new ClusterProtocolError('SLUICE_CLUSTER_NOT_JOINED', reason));
    const timer = setTimeout(() => refuse('no join or call frame in time after the handshake'), ADMIT_MS);
    void peer.closed.then(() => clearTimeout(timer));
    peer.onFrame((f) => {
      clearTimeout(timer);
      if (f.t === 'join') {
        this.#membership.join(peer, f);
      } else if (f.t === 'call') {
        const rpc = new Rpc(peer).attach().onCall((m, a) => this.clientCall(m, a));
        rpc.frame(f);
      } else refuse(`a ${f.t} frame before join or call`);
    });
  }

  private membershipEvent(
    e: Parameters<NonNullable<ConstructorParameters<typeof ClusterMembership>[0]['onEvent']>>[0],
  ): void {
    if (e.event === 'node-joined') {
      const info = this.#membership.nodes.get(e.nodeId)!;
      const rpc = new Rpc(info.peer)
        .onCall((m, a) => this.nodeCall(e.nodeId, m, a))
        .onNote((n) => this.nodeNote(e.nodeId, n as NodeEvent));
      this.#nodes.set(e.nodeId, { nodeId: e.nodeId, slots: e.containers, rpc });
      this.#o.log?.(`node ${e.nodeId} joined (${e.containers} containers)`);
    } else if (e.event === 'node-left') {
      this.#nodes.delete(e.nodeId);
      this.#o.log?.(`node ${e.nodeId} left (${e.closeCode})`);
      for (const { run } of this.#apps.values()) run.nodeLost(e.nodeId, `connection closed ${e.closeCode}`);
    } else this.#o.log?.(`node refused ${e.remote}: ${e.code} ${e.reason}`);
  }

  private nodeFrame(nodeId: string, f: ClusterFrame): void {
    this.#nodes.get(nodeId)?.rpc.frame(f);
  }

  private nodeNote(nodeId: string, n: NodeEvent): void {
    if (n.t === 'hello') {
      const node = this.#nodes.get(nodeId);
      if (node) {
        node.dataUrl = n.dataUrl;
        node.hosting = Array.isArray(n.hosting) ? n.hosting : [];
        this.fenceStale(node);
      }
      return;
    }
    this.#apps.get(n.app)?.run.nodeEvent(nodeId, n);
  }

  /**
   * Containers a rejoining node kept running that nothing here will adopt: those of an application
   * this supervisor already runs (it counted them lost when the node's connection closed, and replaced
   * them), or of one it neither runs nor will resume. They stop now rather than at the end of the node's
   * grace. (An application still starting, adopting maybe, is left alone.)
   */
  private fenceStale(node: Node): void {
    for (const h of node.hosting ?? []) {
      const run = this.#apps.get(h.app)?.run;
      const stale = run === undefined ? !this.#registry.has(h.app) : run.state !== 'starting';
      if (!stale) continue;
      this.#o.log?.(`node ${node.nodeId} runs stale containers of ${h.app} epoch ${h.epoch}: stopping them`);
      node.rpc.call('terminate', h.app).catch(() => {});
    }
  }

  /** A node's store call: answered only for an epoch a container of that node runs in (others are fenced). */
  private async nodeCall(nodeId: string, method: string, a: unknown[]): Promise<unknown> {
    if (method !== 'store') throw new ClusterRequestError(`no node call ${method}`);
    const [app, epoch, op, ...args] = a as [string, number, string, ...unknown[]];
    const entry = this.#apps.get(app);
    if (entry === undefined || !entry.run.accepts(nodeId, epoch)) {
      throw new ClusterCallError(
        'SLUICE_CLUSTER_FENCED',
        `store call of ${app} epoch ${epoch} from node ${nodeId} refused: not the application's current containers`,
      );
    }
    return serveStoreCall(entry.run.store, op, args);
  }

  private readonly directory: NodeDirectory = {
    eligible: async (module, hash) => {
      const ready = [...this.#nodes.values()].filter((n) => n.dataUrl !== undefined && n.rpc.open);
      const checked = await Promise.all(
        ready.map(async (n) => {
          try {
            const { hash: theirs } = (await n.rpc.call('prepare', module)) as { hash: string };
            if (theirs === hash) return n;
            this.#o.log?.(`node ${n.nodeId} refused for this application: build ${theirs}, launcher ${hash}`);
          } catch (e) {
            this.#o.log?.(`node ${n.nodeId} could not check the application: ${(e as Error).message}`);
          }
          return undefined;
        }),
      );
      return checked
        .filter((n): n is Node => n !== undefined)
        .map((n): NodeSlot => ({ nodeId: n.nodeId, slots: n.slots, dataUrl: n.dataUrl! }));
    },
    call: (nodeId, method, ...args) => {
      const node = this.#nodes.get(nodeId);
      if (node === undefined) return Promise.reject(new Error(`node ${nodeId} is gone`));
      return node.rpc.call(method, ...args);
    },
    note: (nodeId, note) => this.#nodes.get(nodeId)?.rpc.note(note),
    announced: (app) =>
      [...this.#nodes.values()]
        .filter((n) => n.rpc.open)
        .flatMap((n) =>
          (n.hosting ?? []).filter((h) => h.app === app).map((h) => ({ ...h, nodeId: n.nodeId })),
        ),
  };

  // ---- launchers ---------------------------------------------------------------------------------

  private async clientCall(method: string, a: unknown[]): Promise<unknown> {
    switch (method) {
      case 'hello':
        return null;
      case 'launch':
        return this.launch(a[0] as LaunchRequest);
      case 'wait':
        return this.wait(a[0] as string);
      case 'status':
        return this.status();
      case 'kill':
        return this.kill(a[0] as string);
      case 'stop':
        return this.stopApp(a[0] as string);
      default:
        throw new ClusterRequestError(`no call ${method}`);
    }
  }

  /**
   * Takes over what a previous supervisor on this store was running, once a node has joined: each
   * application's containers that the nodes kept running are adopted as they are (ClusterRun.adopt);
   * where that is impossible it is launched again from its committed checkpoint, a moment after the
   * first node joined (nodes rejoin about together), so the containers spread as before.
   */
  private async resume(): Promise<void> {
    // The build as it is on disk now, not as it was launched: the nodes hash the folder as it is (a file
    // added beside the module since, an npm install) and would refuse the launcher's old hash for good.
    const launched = this.#registry
      .entries()
      .map(([name, req]): [string, LaunchRequest] => [name, rehashed(req)]);
    if (launched.length === 0) return;
    // Loaded while the nodes rejoin (seconds on a loaded machine), not after: launch finds them cached.
    for (const [, req] of launched) importBuild(req).catch(() => {});
    while (this.#nodes.size === 0 && !this.#closing) await new Promise((r) => setTimeout(r, 100));
    for (const [name, req] of launched) {
      if (this.#closing) return;
      const pending = this.#resuming.get(name);
      if (pending === undefined) continue; // killed while it waited
      pending.launching = true;
      this.#o.log?.(`resuming ${req.module} from its store`);
      this.launch(req, true)
        .catch((e: unknown) =>
          this.#o.log?.(`could not resume ${req.module}: ${String((e as Error)?.message ?? e)}`),
        )
        .finally(() => this.#resumed(name));
    }
  }

  /** `name` runs here now, or will not be resumed: calls waiting on it go on. */
  #resumed(name: string): void {
    this.#resuming.get(name)?.settle();
    this.#resuming.delete(name);
  }

  /**
   * Loads the application from the supervisor's own disk, places it, and resolves once it started;
   * `resumed`: it ran under a previous supervisor on this store (adopt its running containers if any).
   */
  async launch(req: LaunchRequest, resumed = false): Promise<AppSummary> {
    const mod = (await importBuild(req)) as { default?: unknown };
    const app = mod.default;
    if (!isApplication(app))
      throw new NotAnApplicationError(`${req.module} does not export an application by default`);
    const existing = this.#apps.get(app.name);
    if (existing && LIVE.includes(existing.run.state))
      throw new ClusterRequestError(`${app.name} is already running on this cluster`);
    if (!resumed && this.#resuming.has(app.name))
      throw new ClusterRequestError(
        `${app.name} ran under the previous supervisor and is being resumed from its store once a node joins: wait for it (sluice status), or kill it first`,
      );
    const slots = [...this.#nodes.values()].reduce((s, n) => s + n.slots, 0);
    const physical = planPhysical(app.dag());
    const containers = Math.max(1, Math.min(req.containers ?? slots, physical.actors.length));
    const plan = assignContainers(physical, containers);
    const checkpointWindowCount =
      req.checkpointWindowCount ?? app.attributes.checkpointWindowCount ?? DEFAULT_CHECKPOINT_WINDOW_COUNT;
    const streamingWindowMs =
      req.streamingWindowMs ?? app.attributes.streamingWindowMs ?? DEFAULT_STREAMING_WINDOW_MS;
    checkRunNumbers({ windows: req.windows, checkpointWindowCount, streamingWindowMs });
    const store = openStore(this.#o.store, app);
    await store.open();
    this.#registry.record(app.name, { ...req, containers });
    const supervision = new ContainerSupervisor(this.#o.restart);
    const commits = new ApplicationSupervisor(this.#o.restart, {
      checkpointing: checkpointWindowCount > 0,
      replayFrom: 'sources',
    });
    const run = new ClusterRun(
      app,
      plan,
      store,
      {
        containers,
        module: req.module,
        hash: req.hash,
        streamingWindowMs,
        checkpointWindowCount,
        windows: req.windows,
        virtualTime: req.virtualTime,
        metrics: this.#o.metrics,
        adopt: resumed,
        // Without containers to adopt, a relaunch waits as long as before for the other nodes to rejoin.
        adoptWaitMs: 5000,
      },
      commits,
      supervision,
      this.directory,
    );
    const started = new Promise<void>((resolveStarted, reject) => {
      run.events.on('status', (e) => {
        this.#o.onStatus?.(app.name, e);
        // Or its first start failed (while deploying) and a restart got it running.
        if (e.type === 'started' || e.type === 'recovered') resolveStarted();
        if (e.type === 'warning') this.#o.log?.(`${app.name}: ${e.message}`);
        if (e.type === 'failure')
          this.#o.log?.(
            `${app.name}: ${e.actorId} failed at window ${e.window} (${e.phase}): ${e.error.message}`,
          );
        if (e.type === 'restart')
          this.#o.log?.(`${app.name}: restarting ${e.actors.join(', ')} from window ${e.window}`);
        if (e.type === 'recovered')
          this.#o.log?.(`${app.name}: recovered at window ${e.window} in ${Math.round(e.ms)} ms`);
      });
      const entry: AppEntry = {
        run,
        done: run
          .execute()
          .catch((e: unknown) => {
            entry.error = String((e as Error)?.message ?? e);
            this.#o.log?.(`${app.name} failed: ${entry.error}`);
            reject(e);
          })
          .finally(() => {
            // Ended for good (not by this supervisor closing): nothing to resume.
            if (!this.#closing) this.#registry.forget(app.name);
            return store.close();
          }),
      };
      this.#apps.set(app.name, entry);
      this.#resumed(app.name);
      void entry.done.then(() => resolveStarted());
    });
    await started;
    const since = Math.round(performance.now() - this.#started);
    const how = run.adopted
      ? `adopted at epoch ${run.epoch}, ${since} ms after this supervisor started`
      : 'launched';
    this.#o.log?.(`${app.name} ${how} on ${containers} containers: ${JSON.stringify(run.placement)}`);
    return this.summary(app.name);
  }

  private summary(name: string): AppSummary {
    const entry = this.#apps.get(name)!;
    const s = entry.run.stats();
    return {
      name,
      state: entry.run.state,
      window: s.window,
      committed: s.committed,
      restarts: s.restarts,
      tuples: s.tuples,
      operators: s.operators,
      placement: entry.run.placement,
      containers: entry.run.progress,
      ...(entry.run.unfinishedWindow !== undefined ? { unfinished: entry.run.unfinishedWindow } : {}),
      error: entry.error ?? null,
    };
  }

  /** The application `name`, once resumed if it is still to be (see #resuming). */
  private async entry(name: string): Promise<AppEntry> {
    const pending = this.#resuming.get(name);
    if (pending !== undefined && !this.#apps.has(name)) await pending.settled;
    const entry = this.#apps.get(name);
    if (entry === undefined) throw new ClusterRequestError(`no application ${name} on this cluster`);
    return entry;
  }

  /** Resolves when the application ends (done, stopped, killed or failed). */
  async wait(name: string): Promise<AppSummary> {
    await (await this.entry(name)).done;
    return this.summary(name);
  }

  /** Killed before it was resumed, it is not resumed at all (the registry forgets it). */
  async kill(name: string): Promise<AppSummary> {
    const pending = this.#resuming.get(name);
    if (pending !== undefined && !pending.launching) {
      this.#o.log?.(`${name} killed before it was resumed: not resumed`);
      this.#registry.forget(name);
      this.#resumed(name);
      return notResumed(name);
    }
    const entry = await this.entry(name);
    entry.run.kill();
    await entry.done;
    return this.summary(name);
  }

  async stopApp(name: string): Promise<AppSummary> {
    const entry = await this.entry(name);
    await entry.run.stop();
    await entry.done;
    return this.summary(name);
  }

  /**
   * The applications launched here (running or ended, the newest launch last), each with its metrics
   * collector: what `--metrics` and `--console` serve.
   */
  runs(): ClusterRun[] {
    return [...this.#apps.values()].map((e) => e.run);
  }

  status(): ClusterStatus {
    return {
      nodes: [...this.#nodes.values()].map((n) => ({
        nodeId: n.nodeId,
        containers: n.slots,
        dataUrl: n.dataUrl ?? null,
        hosting: [...this.#apps.entries()]
          .filter(([, e]) => LIVE.includes(e.run.state) && e.run.placedOn(n.nodeId))
          .map(([name]) => name),
      })),
      apps: [
        ...[...this.#resuming.keys()].filter((name) => !this.#apps.has(name)).map(resuming),
        ...[...this.#apps.keys()].map((name) => this.summary(name)),
      ],
    };
  }

  /** Stops serving; running applications are killed but kept in the registry, resumed by the next start. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const { run } of this.#apps.values()) run.kill();
    await Promise.all([...this.#apps.values()].map((e) => e.done));
    await this.#server.close();
  }
}

/** `req` with the build hash of its module's folder as it is now (kept as launched if it cannot be read). */
function rehashed(req: LaunchRequest): LaunchRequest {
  try {
    return { ...req, hash: appBuildHash(req.module) };
  } catch {
    return req;
  }
}

/** An application of the registry waiting for a node to join before it is resumed. */
function resuming(name: string): AppSummary {
  return { name, state: 'resuming', window: 0, committed: 0, restarts: 0, placement: {}, error: null };
}

/** An application killed while it waited to be resumed: it never ran under this supervisor. */
function notResumed(name: string): AppSummary {
  return { name, state: 'killed', window: 0, committed: 0, restarts: 0, placement: {}, error: null };
}

function openStore(store: string, app: Application): SnapshotStore {
  if (store.startsWith('redis://') || store.startsWith('rediss://'))
    return new RedisSnapshotStore(store, { name: app.name, lockWaitMs: 11_000 });
  return new LevelSnapshotStore(resolve(joinPath(store, storeDirName(app.name))));
}

/**
 * The application module as this build of it: imported under its build hash, so a module edited since an
 * earlier launch on this supervisor is loaded again (an import is cached by URL for the process's life,
 * and the supervisor would plan the old DAG while the nodes' fresh workers load the new file). Modules it
 * imports in turn are cached by their own URLs: an edit there needs a supervisor restart.
 */
function importBuild(req: LaunchRequest): Promise<unknown> {
  const url = new URL(req.module);
  url.searchParams.set('sluice-build', req.hash);
  return import(url.href);
}
