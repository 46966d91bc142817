import { hostname } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import { joinCluster } from '../cluster/client.ts';
import { REFUSALS } from '../cluster/errors.ts';
import type { ClusterFrame } from '../cluster/frames.ts';
import type { PeerConnection } from '../cluster/peer-connection.ts';
import { ClusterServer } from '../cluster/server.ts';
import { ContainerHandle, type HandleListener, type ReusableWorker } from '../container/container-handle.ts';
import { ApplicationDiffersError } from '../container/errors.ts';
import type { PortsOf } from '../container/links.ts';
import type { ContainerEvent, MainNotice } from '../container/protocol.ts';
import { SpareWorkers } from '../container/spare-workers.ts';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS } from '../container/supervision.ts';
import { CarriedReports } from '../metrics/carried-report.ts';
import { appBuildHash, runtimeBuild } from './build-hash.ts';
import { ClusterStoreClient } from './cluster-store.ts';
import { HeldCalls } from './held-calls.ts';
import { bridgeIn, bridgeOut, LinkRegistry } from './link-bridge.ts';
import type {
  ContainerState,
  DeployRequest,
  HostedAnnounce,
  NodeEvent,
  RewireRequest,
} from './node-protocol.ts';
import { Rpc } from './rpc.ts';
import {
  doneWithoutSupervisor,
  HeldWindowLogs,
  ReplicaLinks,
  ReplicaRefusedError,
  replicaArgs,
} from './window-log-replicas.ts';

export type NodeOptions = {
  /** The supervisor's URL, ws://HOST:PORT; or several, comma-separated (the active one and standbys). */
  join: string;
  /** Container slots this node offers. Default 2. */
  containers?: number;
  secret?: Buffer;
  /** Default `hostname-pid`. */
  nodeId?: string;
  /** Where the node listens for other nodes' data links. Default 127.0.0.1 (port chosen by the OS). */
  dataHost?: string;
  dataPort?: number;
  /** A container silent this long is hung and replaced. Default 10 000 ms, as in one process. */
  heartbeatTimeoutMs?: number;
  /** Rejoin after the supervisor's connection is lost. Default true. */
  rejoin?: boolean;
  /**
   * How long containers keep running after the supervisor's connection is lost, waiting for a
   * (restarted or standby) supervisor to adopt them; then they stop (fenced). 0: stop at once.
   * Default 30 000 ms.
   */
  supervisorGraceMs?: number;
  /**
   * Warm spare workers kept per application. Default: as many as the containers it does not host here
   * (what a restart may move onto this node), at least 1, at most 4.
   */
  spares?: number;
  /**
   * A restart of every container reuses this node's workers of the application (module loaded, code
   * compiled) for its new containers instead of terminating them. Default true.
   */
  reuseWorkers?: boolean;
  /** The most bytes of store calls held for all applications while the supervisor is away. Default 64 MiB. */
  heldStoreBytes?: number;
  /**
   * While no supervisor holds an application, its inputs are paced here: at most this many windows past
   * the last done window the supervisor sent (the containers keep what they send since the commit, and
   * commits wait for the supervisor), and none once half of `heldStoreBytes` is held. Default 200.
   */
  windowsWhileDown?: number;
  log?: (line: string) => void;
};

type HostedApp = {
  app: string;
  epoch: number;
  handles: ContainerHandle[];
  links: PeerConnection[];
  /** Each hosted container's deploy epoch (a partial restart leaves the kept ones at theirs). */
  epochs: Map<number, number>;
  /** Each data link's container here (producer or consumer) and stream: closed with that container. */
  ends: Map<PeerConnection, LinkEnd>;
  /** Streams into containers here whose producer's node has not dialled in yet → their container. */
  claims: Map<string, number>;
  /** Links closed here on purpose (a rewire, a replaced container): not reported as lost. */
  dropped: WeakSet<PeerConnection>;
  /** Running on without a supervisor: stops the containers when it fires (not adopted in time). */
  grace?: NodeJS.Timeout;
  /** Other nodes' data URLs (consumers' nodes of the app's streams): where window-log entries replicate. */
  peers: Set<string>;
  /** The last done window the supervisor sent; and the one this node sent its containers without one. */
  appDone: number;
  paced: number;
  /** Workers of containers a partial restart retired here: the next deploy here hosts its own in them. */
  released: Reusable[];
};

/**
 * A node: one process that joins the cluster supervisor, announces its container slots, and hosts the
 * containers the supervisor places on it. Each container is the same worker thread as in one process
 * (ContainerHandle, container-worker.ts), loading the application module from this node's disk; its
 * control calls, events and snapshot store are relayed over the node's one cluster connection, and its
 * streams to containers on other nodes go over node-to-node links (link-bridge.ts), never through the
 * supervisor. When the supervisor's connection is lost (or it declared this node dead) the containers
 * run on for a grace, their store calls held (HeldCalls), their inputs paced here and their window-log
 * entries held by this node and one other (window-log-replicas.ts), until a supervisor adopts them;
 * else they stop (fenced) and their work is redone from the commit, the held entries replayed.
 */
export class ClusterNode {
  readonly nodeId: string;
  readonly #o: NodeOptions;
  readonly #apps = new Map<string, HostedApp>();
  readonly #links = new LinkRegistry();
  /** Warm workers per application (module loaded): a container replaced onto this node starts warm. */
  readonly #spares = new Map<
    string,
    { key: string; pool: SpareWorkers; idle?: NodeJS.Timeout; refill?: NodeJS.Timeout }
  >();
  #data!: ClusterServer;
  #rpc: Rpc | undefined;
  #stopping = false;
  /** Refusals in a row (another build, an id in use): the rejoin waits longer after each. */
  #refusals = 0;
  #joined: Promise<void> | undefined;
  /** Which of the `join` URLs answered last. */
  #at = 0;
  #watch: NodeJS.Timeout | undefined;
  readonly #held: HeldCalls;
  /** Window-log entries cut while no supervisor holds their app: this node's and other nodes' replicas. */
  readonly #heldLogs = new HeldWindowLogs();
  readonly #replicas: ReplicaLinks;
  /** Containers started here (deploys), all applications: an adoption starts none. */
  containersStarted = 0;
  /** Containers' metrics, cumulative over the workers each had here (any supervisor reads them as they are). */
  readonly #metrics: CarriedReports;

  private constructor(options: NodeOptions) {
    this.#o = options;
    this.nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
    this.#metrics = new CarriedReports(this.nodeId);
    this.#held = new HeldCalls(
      options.heldStoreBytes ?? 64 * 1024 * 1024,
      (app) => {
        this.#log(`${app}: too many store calls held while the supervisor is away; containers stopped`);
        void this.#terminate(app);
      },
      (app, method, args) =>
        method === 'store' && args[2] === 'appendWindowLog' ? this.#logHeld(app, args) : undefined,
    );
    this.#replicas = new ReplicaLinks(async (url) => {
      const rpc = new Rpc(await joinCluster(url, { secret: this.#o.secret })).attach();
      return rpc;
    });
  }

  static async start(options: NodeOptions): Promise<ClusterNode> {
    const node = new ClusterNode(options);
    node.#data = await ClusterServer.listen({
      host: options.dataHost ?? '127.0.0.1',
      port: options.dataPort ?? 0,
      secret: options.secret,
      onPeer: (peer) => node.#links.admit(peer, (p, first) => node.#replicaPeer(p, first)),
      // A peer refused on the data port (a wrong secret, a bad frame) leaves a line, as on the supervisor.
      onEvent: (e) => {
        if (e.event === 'refused') node.#log(`data port refused ${e.remote}: ${e.code} ${e.reason}`);
      },
    });
    const limit = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    node.#watch = setInterval(() => node.#checkBeats(limit), Math.max(50, limit / 4));
    await node.#join();
    return node;
  }

  get dataUrl(): string {
    const host = this.#o.dataHost ?? '127.0.0.1';
    return `ws://${host.includes(':') ? `[${host}]` : host}:${this.#data.port}`;
  }

  /** Resolves when the current connection to the supervisor closes. */
  get connected(): boolean {
    return this.#rpc?.open ?? false;
  }

  /**
   * Joins the first supervisor that answers, starting with the one that last did: `join` may list the
   * active supervisor and its standbys (comma-separated); only the lease holder listens.
   */
  async #join(): Promise<void> {
    const urls = this.#o.join.split(',').map((u) => u.trim());
    let peer: PeerConnection | undefined;
    let error: unknown;
    for (let i = 0; i < urls.length && peer === undefined; i++) {
      const at = (this.#at + i) % urls.length;
      try {
        peer = await joinCluster(urls[at]!, { secret: this.#o.secret });
        this.#at = at;
      } catch (e) {
        error = e;
      }
    }
    if (peer === undefined) throw error;
    const url = urls[this.#at]!;
    const rpc = new Rpc(peer).attach();
    rpc.onCall((m, a) => this.#call(m, a));
    rpc.onNote((n) => this.#note(n));
    peer.send({ t: 'join', nodeId: this.nodeId, build: runtimeBuild(), containers: this.#o.containers ?? 2 });
    this.#rpc = rpc;
    this.#held.connected(rpc);
    // What runs here (containers kept through the supervisor's absence): a restarted one adopts them.
    rpc.note({ t: 'hello', dataUrl: this.dataUrl, hosting: this.#hosting() });
    this.#log(
      `joined ${url} as ${this.nodeId} (${this.#o.containers ?? 2} containers, data ${this.dataUrl})`,
    );
    void peer.closed.then((code) => this.#lost(code, peer.closedReason));
  }

  /**
   * The supervisor is gone or declared us dead: the containers run on for the grace period (their
   * store calls held, see HeldCalls) while the node rejoins; adopted by the supervisor it rejoins, they
   * carry on; else they stop (fenced). Without a grace, or not rejoining, they stop at once.
   */
  async #lost(code: number, reason?: string): Promise<void> {
    this.#rpc = undefined;
    // Refused for what this node is (another runtime build, an id in use): said once per attempt, and
    // tried again slowly (the supervisor may be upgraded, the other node may leave).
    const refused =
      code === REFUSALS.SLUICE_CLUSTER_BUILD_MISMATCH || code === REFUSALS.SLUICE_CLUSTER_DUPLICATE_NODE;
    if (refused && !this.#stopping)
      this.#log(`refused by the supervisor (${code}): ${reason ?? 'no reason given'}`);
    this.#held.connected(undefined);
    const grace = this.#o.supervisorGraceMs ?? 30_000;
    if (this.#stopping || this.#o.rejoin === false || grace <= 0 || this.#apps.size === 0) {
      await Promise.all([...this.#apps.keys()].map((app) => this.#terminate(app)));
      if (this.#stopping || this.#o.rejoin === false) return;
      this.#log(`lost the supervisor (${code}); containers stopped; rejoining`);
    } else {
      for (const hosted of this.#apps.values()) {
        this.#startGrace(hosted, grace);
        this.#paceAlone(hosted);
      }
      const n = [...this.#apps.values()].reduce((s, h) => s + h.handles.length, 0);
      this.#log(`lost the supervisor (${code}); ${n} containers run on for up to ${grace} ms; rejoining`);
    }
    if (refused) this.#refusals++;
    else this.#refusals = 0;
    let delay = refused ? Math.min(REFUSED_RETRY_MS * 2 ** (this.#refusals - 1), REFUSED_RETRY_MAX_MS) : 200;
    while (!this.#stopping) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.#stopping) return;
      try {
        this.#joined = this.#join();
        await this.#joined;
        return;
      } catch (e) {
        if (this.#stopping) return; // the node is closing: its data server with it
        this.#log(`rejoin failed: ${(e as Error).message}`);
        delay = Math.min(delay * 2, Math.max(delay, 2000));
      }
    }
  }

  #call(method: string, a: unknown[]): unknown {
    switch (method) {
      case 'prepare':
        return { hash: appBuildHash(a[0] as string) };
      case 'deploy':
        return this.#deploy(a[0] as DeployRequest);
      case 'start':
        for (const h of this.#current(a[0], a[1])) {
          if (h.started) continue; // a partial restart starts only the replacements
          h.started = true;
          void h.api.start();
        }
        // Not before, and not at once: spares loading while containers start, restore and catch up
        // would slow them (a deploy holds them again).
        this.#refillLater(a[0] as string);
        return null;
      case 'proposeStop':
        return Promise.all(this.#current(a[0], a[1]).map((h) => h.api.proposeStop())).then((ws) =>
          ws.map((w) => w ?? null),
        );
      case 'setFinalWindow':
        for (const h of this.#current(a[0], a[1])) void h.api.setFinalWindow(a[2] as number);
        return null;
      case 'abandon':
        for (const h of this.#current(a[0], a[1])) void h.api.abandon(a[2] as number).catch(() => {});
        return null;
      case 'failActor':
        for (const h of this.#current(a[0], a[1]))
          if (h.actors.includes(a[2] as string)) void h.api.failActor(a[2] as string, a[3] as string);
        return null;
      case 'openTap':
      case 'closeTap':
        return this.#tap(method, a);
      case 'adopt':
        return this.#adopt(a[0] as string, a[1] as number);
      case 'heldLogs': {
        const entries = this.#heldLogs.entries(a[0] as string);
        if (entries.length > 0) this.#log(`${a[0]}: ${entries.length} held window-log entries sent`);
        return entries;
      }
      case 'terminate':
        if (this.#apps.has(a[0] as string)) this.#log(`${a[0]}: containers stopped (the supervisor's call)`);
        return this.#terminate(a[0] as string);
      case 'retire':
        return this.#retire(a[0] as string, a[1] as number[]);
      case 'rewire':
        return this.#rewire(a[0] as string, a[1] as number, a[2] as RewireRequest[]);
      default:
        throw new Error(`node: no call ${method}`);
    }
  }

  /** openTap(app, epoch, container, tap, port, channels, sample) / closeTap(app, epoch, container, tap). */
  #tap(method: string, a: unknown[]): null {
    const [, , container, tap, port, channels, sample] = a;
    for (const h of this.#current(a[0], a[1])) {
      if (h.container !== container || h.ended) continue;
      if (method === 'openTap')
        h.api.openTap(tap as number, port as string, channels as number[], sample as number).catch(() => {});
      else h.api.closeTap(tap as number).catch(() => {});
    }
    return null;
  }

  #note(n: Record<string, unknown>): void {
    if (n.t !== 'notice') return;
    const notice = n.n as MainNotice;
    const hosted = this.#apps.get(n.app as string);
    if (hosted !== undefined && notice.t === 'done') hosted.appDone = hosted.paced = notice.window;
    if (notice.t === 'commit') this.#heldLogs.committed(n.app as string, notice.window);
    for (const h of this.#current(n.app, n.epoch)) h.notify(notice);
  }

  /** The app's containers deployed in `epoch` or before (those a partial restart kept run in older ones). */
  #current(app: unknown, epoch: unknown): ContainerHandle[] {
    const hosted = this.#apps.get(app as string);
    if (hosted === undefined || typeof epoch !== 'number') return [];
    return hosted.handles.filter((h) => (hosted.epochs.get(h.container) ?? hosted.epoch) <= epoch);
  }

  async #deploy(req: DeployRequest): Promise<number> {
    // A partial restart (`replace`) keeps the app's other containers here; a deploy starts from nothing.
    // Containers left from before this node rejoined (kept through a grace, not adopted) are not kept:
    // the supervisor counted them lost with the connection; they stop (fenced) like any others.
    const kept = req.replace && this.#held.live(req.app) ? this.#apps.get(req.app) : undefined;
    // No spare starts while the app is being (re)deployed: they would compete with it for the cores.
    const had = this.#spares.get(req.app);
    clearTimeout(had?.refill);
    had?.pool.hold();
    // A restart of every container (`recycle`): the workers of the ones here host the new ones.
    const reusable: Reusable[] = [];
    if (kept) {
      await this.#retire(
        req.app,
        req.hosted.map((h) => h.container),
      );
      // Retired by the supervisor's `retire` call just before: their workers host the replacements.
      reusable.push(...kept.released.splice(0));
    } else
      await this.#terminate(req.app, req.recycle && this.#o.reuseWorkers !== false ? reusable : undefined);
    const hosted: HostedApp = kept ?? {
      app: req.app,
      epoch: req.epoch,
      handles: [],
      links: [],
      epochs: new Map(),
      ends: new Map(),
      claims: new Map(),
      dropped: new WeakSet(),
      peers: new Set(),
      appDone: req.config.restoreWindow,
      paced: req.config.restoreWindow,
      released: [],
    };
    hosted.epoch = Math.max(hosted.epoch, req.epoch);
    this.#heldLogs.deployed(req.app, req.epoch);
    for (const l of req.links) hosted.peers.add(l.toUrl);
    this.#apps.set(req.app, hosted);
    this.#held.open(req.app);
    const listener: HandleListener = {
      event: (h, e: ContainerEvent) => {
        if (e.t === 'progress') {
          h.done = e.window;
          h.tuples = e.tuples;
          this.#paceAlone(hosted);
        } else if (e.t === 'finished') h.finished = true;
        const ev =
          e.t === 'beat' && e.metrics
            ? { ...e, metrics: this.#metrics.carry(req.app, h.container, h, e.metrics) }
            : e;
        this.#report(
          hosted,
          { t: 'ev', app: req.app, epoch: req.epoch, c: h.container, e: ev },
          e.t === 'failed',
        );
      },
      died: (h, reason) =>
        this.#report(hosted, { t: 'died', app: req.app, epoch: req.epoch, c: h.container, reason }, true),
    };
    const r = req.config.restoreWindow;
    const spares = this.#sparesFor(req);
    const fresh: ContainerHandle[] = [];
    const from = { reused: 0, spare: 0, new: 0 };
    for (const { container, actors } of req.hosted) {
      const data = { module: req.module, applicationName: req.app, container, containers: req.containers };
      // Its own worker if it had one here (same actors, their code compiled), else another reusable one.
      const own = reusable.findIndex((w) => w.container === container);
      const w = own >= 0 ? reusable.splice(own, 1)[0] : reusable.shift();
      if (w) from.reused++;
      else if (spares.count > 0) from.spare++;
      else from.new++;
      const worker = w?.worker ?? spares.take();
      fresh.push(new ContainerHandle(container, actors, r, data, listener, worker, w?.api));
      hosted.epochs.set(container, req.epoch);
    }
    for (const w of reusable) void w.worker.terminate();
    hosted.handles.push(...fresh);
    // After the takes (shrinking first could end a spare this deploy needed).
    spares.resize(this.#o.spares ?? Math.min(4, Math.max(1, req.containers - hosted.handles.length)));
    this.containersStarted += req.hosted.length;
    this.#log(
      `deployed ${req.app} epoch ${req.epoch}: containers ${req.hosted.map((h) => h.container).join(',')} in ${from.reused} reused workers, ${from.spare} spares, ${from.new} new (${this.containersStarted} started here)`,
    );
    const planned = await Promise.all(fresh.map((h) => h.api.actorIds()));
    for (const [i, ids] of planned.entries()) {
      if (ids.join(',') !== req.expected)
        throw new ApplicationDiffersError(
          `node ${this.nodeId}'s container ${fresh[i]!.container}`,
          req.expected.split(','),
          ids,
        );
    }
    const ports = await this.#connect(req, hosted);
    const store = new ClusterStoreClient(req.storeLocation, this.#held.channel(req.app), req.app, req.epoch);
    const logged = await Promise.all(fresh.map((h) => h.deploy(req.config, store, ports.get(h.container)!)));
    return Math.max(r, ...logged);
  }

  /** The ports of this node's containers: local pairs, and bridges to and from other nodes. */
  async #connect(req: DeployRequest, hosted: HostedApp): Promise<Map<number, PortsOf>> {
    const here = new Set(req.hosted.map((h) => h.container));
    const ports = new Map<number, PortsOf>([...here].map((c) => [c, { out: {}, in: {} }]));
    const dials: Promise<void>[] = [];
    for (const link of req.links) {
      const from = here.has(link.from);
      const to = here.has(link.to);
      if (!from && !to) continue;
      const pair = new MessageChannel();
      const stream = `${req.app}/${req.epoch}/${link.channel}`;
      if (from) ports.get(link.from)!.out[link.channel] = pair.port1;
      if (to) ports.get(link.to)!.in[link.channel] = pair.port2;
      if (from && !to) {
        const end = { container: link.from, channel: link.channel, stream };
        dials.push(this.#dial(link.toUrl, stream, pair.port2, hosted, end));
      }
      if (to && !from) {
        const end = { container: link.to, channel: link.channel, stream };
        hosted.claims.set(stream, link.to);
        void this.#links.claim(stream).then(({ peer, early }) => {
          hosted.claims.delete(stream);
          this.#accepted(peer, early, pair.port1, hosted, end);
        });
      }
    }
    await Promise.all(dials);
    return ports;
  }

  async #dial(
    url: string,
    stream: string,
    port: MessagePort,
    hosted: HostedApp,
    end: LinkEnd,
  ): Promise<void> {
    // Zero mask: the link carries the stream's bytes, and masking them in JS was a tenth of each relay's
    // CPU (client.ts, zeroMask).
    const peer = await joinCluster(url, { secret: this.#o.secret, zeroMask: true });
    peer.send({ t: 'link', stream });
    hosted.links.push(peer);
    hosted.ends.set(peer, end);
    bridgeOut(port, peer);
    this.#watchLink(peer, hosted, 'out');
  }

  #accepted(
    peer: PeerConnection,
    early: Parameters<typeof bridgeIn>[2],
    port: MessagePort,
    hosted: HostedApp,
    end: LinkEnd,
  ): void {
    if (this.#apps.get(hosted.app) !== hosted || !hosted.epochs.has(end.container)) {
      peer.close('stale link');
      return;
    }
    hosted.links.push(peer);
    hosted.ends.set(peer, end);
    bridgeIn(port, peer, early);
    this.#watchLink(peer, hosted, 'in');
  }

  /**
   * A data link lost while its containers run: reported with its stream's epoch (its consumer's deploy
   * epoch), channel and end, so the supervisor blames the container at the other end and ignores the
   * link of a stream already replaced. Links closed here on purpose are not reported.
   */
  #watchLink(peer: PeerConnection, hosted: HostedApp, side: 'out' | 'in'): void {
    void peer.closed.then(() => {
      const end = hosted.ends.get(peer);
      if (this.#stopping || end === undefined || hosted.dropped.has(peer)) return;
      const epoch = Number(end.stream.split('/').at(-2));
      const e = { app: hosted.app, epoch, remote: peer.remote, channel: end.channel, side };
      this.#report(hosted, { t: 'link-lost', ...e }, true);
    });
  }

  /**
   * A partial restart replaces these containers (or moves them away): they stop, their data links close
   * (not reported: their streams' epochs are over), and the streams still awaited for them are forgotten.
   */
  async #retire(app: string, containers: readonly number[]): Promise<null> {
    const hosted = this.#apps.get(app);
    if (hosted === undefined) return null;
    const gone = new Set(containers);
    const handles = hosted.handles.filter((h) => gone.has(h.container));
    hosted.handles = hosted.handles.filter((h) => !gone.has(h.container));
    for (const c of gone) hosted.epochs.delete(c);
    for (const [peer, end] of hosted.ends) if (gone.has(end.container)) this.#dropLink(hosted, peer);
    for (const [stream, c] of hosted.claims) {
      if (!gone.has(c)) continue;
      hosted.claims.delete(stream);
      this.#links.forget(stream);
    }
    // Their workers (module loaded, code compiled) wait for the deploy that replaces them, as in a
    // restart of every container; one that does not answer in time is terminated.
    const reuse = this.#o.reuseWorkers !== false;
    await Promise.all(
      handles.map(async (h) => {
        if (!reuse) return h.terminate();
        const w = await h.release(RELEASE_MS);
        if (w) hosted.released.push({ container: h.container, ...w });
      }),
    );
    return null;
  }

  /**
   * Live producers here whose consumers a partial restart replaced: each gets a new port, bridged over a
   * new link to the consumer's node (this one too, through its own data port), and replays into it what
   * it kept since the commit (PortChannelOut.rewire); the link to the replaced consumer is closed. Every
   * node in use gets this call, its list maybe empty: the app's epoch here becomes the new one.
   */
  async #rewire(app: string, epoch: number, rewires: readonly RewireRequest[]): Promise<null> {
    const hosted = this.#apps.get(app);
    if (hosted === undefined) throw new Error(`node ${this.nodeId}: no containers of ${app} to rewire`);
    hosted.epoch = Math.max(hosted.epoch, epoch);
    for (const { container, channel, toUrl } of rewires) {
      const h = hosted.handles.find((x) => x.container === container);
      if (h === undefined) throw new Error(`node ${this.nodeId}: no container ${container} of ${app}`);
      for (const [peer, end] of hosted.ends)
        if (end.container === container && end.channel === channel) this.#dropLink(hosted, peer);
      const pair = new MessageChannel();
      const stream = `${app}/${epoch}/${channel}`;
      hosted.peers.add(toUrl);
      await this.#dial(toUrl, stream, pair.port2, hosted, { container, channel, stream });
      await h.api.rewire(channel, Comlink.transfer(pair.port1, [pair.port1]));
    }
    return null;
  }

  #dropLink(hosted: HostedApp, peer: PeerConnection): void {
    hosted.dropped.add(peer);
    hosted.ends.delete(peer);
    hosted.links = hosted.links.filter((l) => l !== peer);
    peer.close('stream replaced');
  }

  /** Refills the app's spares a little after its containers started (SPARES_AFTER_START_MS). */
  #refillLater(app: string): void {
    const spares = this.#spares.get(app);
    if (spares === undefined) return;
    clearTimeout(spares.refill);
    spares.refill = setTimeout(() => spares.pool.fill(), SPARES_AFTER_START_MS);
    spares.refill.unref();
  }

  /**
   * The app's spare workers on this node, kept across its restarts; a pool of another build or plan size
   * is replaced. Its size is set at each deploy (NodeOptions.spares): by default one per container this
   * node does not host (each could be moved here by a restart; a restart of every container reuses the
   * workers of those it hosts), 1 to 4. Spares load one at a time, after the app started, never during
   * a deploy: on a busy machine each spare's module load competes with the running containers.
   */
  #sparesFor(req: DeployRequest): SpareWorkers {
    const key = `${req.module}#${req.containers}`;
    const had = this.#spares.get(req.app);
    if (had?.key === key) {
      clearTimeout(had.idle);
      had.idle = undefined;
      return had.pool;
    }
    void had?.pool.close();
    clearTimeout(had?.refill);
    const size = 1; // resized once the deploy took its workers
    const data = { module: req.module, applicationName: req.app, containers: req.containers };
    const pool = new SpareWorkers(data, size);
    this.#spares.set(req.app, { key, pool });
    return pool;
  }

  /**
   * Stops the app's containers here; with `reuse`, their workers that answer are kept in it (their
   * actors ended, see ContainerHandle.release) instead of terminated.
   */
  async #terminate(app: string, reuse?: Reusable[]): Promise<null> {
    // Spares outlive a restart's terminate; closed when the app is not deployed here again soon.
    const spares = this.#spares.get(app);
    clearTimeout(spares?.refill);
    if (spares && spares.idle === undefined) {
      spares.idle = setTimeout(() => {
        if (this.#spares.get(app) !== spares) return;
        this.#spares.delete(app);
        void spares.pool.close();
      }, SPARES_IDLE_MS);
      spares.idle.unref();
    }
    const hosted = this.#apps.get(app);
    this.#links.drop(`${app}/`);
    this.#held.drop(app, 'its containers here stopped');
    if (hosted === undefined) return null;
    clearTimeout(hosted.grace);
    this.#apps.delete(app);
    for (const w of hosted.released.splice(0)) {
      if (reuse) reuse.push(w);
      else void w.worker.terminate();
    }
    for (const l of hosted.links) l.close('containers stopped');
    await Promise.all(
      hosted.handles.map(async (h) => {
        if (reuse === undefined) return h.terminate();
        const w = await h.release(RELEASE_MS);
        if (w) reuse.push({ container: h.container, ...w });
      }),
    );
    return null;
  }

  #checkBeats(limit: number): void {
    const now = performance.now();
    for (const [app, hosted] of this.#apps) {
      for (const h of hosted.handles) {
        const reason = h.ended ? undefined : h.hangReport(now, limit);
        if (reason === undefined) continue;
        void h.terminate();
        const epoch = hosted.epochs.get(h.container) ?? hosted.epoch;
        this.#report(hosted, { t: 'died', app, epoch, c: h.container, reason }, true);
      }
    }
  }

  #send(e: NodeEvent): void {
    this.#rpc?.note(e);
  }

  /**
   * A container's event goes to the supervisor its application is current on. Without one (lost, or
   * rejoined but not adopted yet), routine events are dropped (an adoption asks for the containers'
   * state), and a failure stops the application here: a failed container cannot be adopted, the
   * supervisor relaunches from the committed checkpoint instead.
   */
  #report(hosted: HostedApp, e: NodeEvent, fatal: boolean): void {
    if (this.#apps.get(hosted.app) !== hosted) return;
    if (this.#held.live(hosted.app)) {
      this.#send(e);
      return;
    }
    if (!fatal) return;
    this.#log(
      `${hosted.app}: a container failed while no supervisor had adopted it (${e.t}); containers stopped`,
    );
    void this.#terminate(hosted.app);
  }

  #startGrace(hosted: HostedApp, ms: number): void {
    clearTimeout(hosted.grace);
    hosted.grace = setTimeout(() => {
      if (this.#apps.get(hosted.app) !== hosted || this.#held.live(hosted.app)) return;
      this.#log(`${hosted.app}: not adopted within ${ms} ms of losing the supervisor; containers stopped`);
      void this.#terminate(hosted.app);
    }, ms);
  }

  /**
   * What this node hosts, as it tells a supervisor it (re)joins: every application, with its containers
   * still running (one that ended cannot be adopted; the supervisor then relaunches or fences).
   */
  #hosting(): HostedAnnounce[] {
    return [...this.#apps.values()].map((h) => ({
      app: h.app,
      epoch: h.epoch,
      containers: h.handles.filter((x) => !x.ended).map((x) => containerState(h, x)),
    }));
  }

  /**
   * A restarted supervisor takes this application's containers over as they run: they become current
   * on this connection, their held store calls go out (in order), and it learns where they are.
   */
  #adopt(app: string, epoch: number): ContainerState[] {
    const hosted = this.#apps.get(app);
    if (hosted === undefined || hosted.epoch !== epoch || hosted.handles.some((h) => h.ended))
      throw new Error(`node ${this.nodeId}: no running containers of ${app} epoch ${epoch} to adopt`);
    clearTimeout(hosted.grace);
    hosted.grace = undefined;
    const { calls, bytes } = this.#held.held;
    this.#held.open(app);
    // Other nodes' entries replicated here after the supervisor collected them (it has ours already).
    const store = this.#held.channel(app);
    for (const e of this.#heldLogs.entries(app))
      if (e[0] === epoch)
        store.call('store', app, containerEpoch(hosted), 'appendWindowLog', ...e.slice(1)).catch(() => {});
    const states = hosted.handles.map((h) => ({
      ...containerState(hosted, h),
      metrics: this.#metrics.last(app, h.container),
    }));
    this.#log(
      `adopted ${app} epoch ${epoch}: containers ${states.map((c) => `${c.c}@${c.done}`).join(',')}; ${calls} held store calls (${bytes} bytes) sent`,
    );
    return states;
  }

  /**
   * While no supervisor holds `hosted`'s application, this node paces its inputs: done notices from its
   * own containers' progress (the streams to other nodes' containers stay bounded by their credits), at
   * most `windowsWhileDown` past the supervisor's last, none once half the held-bytes bound is held.
   */
  #paceAlone(hosted: HostedApp): void {
    if (this.#held.live(hosted.app) || this.#apps.get(hosted.app) !== hosted) return;
    const running = hosted.handles.filter((h) => !h.ended);
    const windowsWhileDown = this.#o.windowsWhileDown ?? 200;
    const done = doneWithoutSupervisor({
      dones: running.map((h) => h.done),
      appDone: hosted.appDone,
      paced: hosted.paced,
      heldBytes: this.#held.held.bytes,
      heldLimit: this.#o.heldStoreBytes ?? 64 * 1024 * 1024,
      windowsWhileDown,
    });
    if (done === undefined) return;
    hosted.paced = done;
    if (done === hosted.appDone + windowsWhileDown)
      this.#log(
        `${hosted.app}: paced alone to window ${done}, ${windowsWhileDown} past the supervisor's last; its inputs wait for a supervisor`,
      );
    for (const h of running) h.notify({ t: 'done', window: done });
  }

  /**
   * An input's window-log entry held while no supervisor holds its app: kept here and replicated to
   * another node hosting the app at this epoch; true (the end marker may leave) once that node acks.
   */
  #logHeld(app: string, args: unknown[]): Promise<boolean> | undefined {
    const hosted = this.#apps.get(app);
    if (hosted === undefined) return undefined;
    const [actorId, window, entry] = args.slice(3) as [string, number, { counts: number[] }];
    const e = [hosted.epoch, actorId, window, entry] as const;
    this.#heldLogs.add(app, e);
    const peers = [...hosted.peers].filter((u) => u !== this.dataUrl);
    return this.#replicas.replicate(peers, app, e);
  }

  /** A connection on the data port whose first frame is a call: another node's window-log replicas. */
  #replicaPeer(peer: PeerConnection, first: ClusterFrame): boolean {
    if (first.t !== 'call') return false;
    const rpc = new Rpc(peer).attach();
    rpc.onCall((m, a) => {
      if (m !== 'replica') throw new ReplicaRefusedError(`no call ${m} on a data port`);
      return this.#replica(a);
    });
    rpc.frame(first);
    return true;
  }

  /**
   * Holds another node's window-log entry, if this node hosts its app at the same epoch (else a stale
   * or fenced writer's: refused). Adopted here already, the entry goes to the store before the ack.
   */
  async #replica(a: unknown[]): Promise<null> {
    const { app, entry } = replicaArgs(a);
    const hosted = this.#apps.get(app);
    if (hosted === undefined || hosted.epoch !== entry[0])
      throw new ReplicaRefusedError(`${app} epoch ${entry[0]} is not hosted here`);
    this.#heldLogs.add(app, entry);
    if (this.#held.live(app))
      await this.#held
        .channel(app)
        .call('store', app, containerEpoch(hosted), 'appendWindowLog', ...entry.slice(1));
    return null;
  }

  #log(line: string): void {
    this.#o.log?.(line);
  }

  /** Leaves the cluster: every container stops, the connection closes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#watch);
    // The supervisor hears first that this node leaves, and moves its containers once, to other nodes.
    // Stopped first, their broken streams failed the application, whose restart put containers back on
    // this node (still a member), and its leaving then restarted the application a second time.
    this.#rpc?.peer.close('node stopping');
    await Promise.all([...this.#apps.keys()].map((app) => this.#terminate(app)));
    for (const { pool, idle, refill } of this.#spares.values()) {
      clearTimeout(idle);
      clearTimeout(refill);
      void pool.close();
    }
    this.#spares.clear();
    this.#replicas.close();
    await this.#data.close();
  }

  /** The same as stop(): `close()` ends a supervisor and a client too. */
  close(): Promise<void> {
    return this.stop();
  }
}

/**
 * How long a worker given up for reuse may take to end its actors (teardowns are bounded at 2 s in the
 * worker) before it is terminated instead: one stuck in a loop never answers.
 */
const RELEASE_MS = 3000;

/** A node refused for what it is tries again after this long, doubling up to the maximum. */
const REFUSED_RETRY_MS = 2000;
const REFUSED_RETRY_MAX_MS = 60_000;

type Reusable = ReusableWorker & { readonly container: number };

/** How long after its containers started an application's spares start loading. */
const SPARES_AFTER_START_MS = 1000;

/** How long an application's spare workers stay once none of its containers runs here. */
const SPARES_IDLE_MS = 30_000;

type LinkEnd = { container: number; channel: number; stream: string };

/** An epoch a container of the app runs in here: the supervisor answers store calls tagged with it. */
function containerEpoch(hosted: HostedApp): number {
  return hosted.epochs.values().next().value ?? hosted.epoch;
}

function containerState(hosted: HostedApp, h: ContainerHandle): ContainerState {
  const epoch = hosted.epochs.get(h.container) ?? hosted.epoch;
  return {
    c: h.container,
    epoch,
    actors: [...h.actors],
    done: h.done,
    tuples: h.tuples,
    finished: h.finished,
  };
}
