import { hostname } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { joinCluster } from '../cluster/client.ts';
import type { PeerConnection } from '../cluster/peer-connection.ts';
import { ClusterServer } from '../cluster/server.ts';
import { ContainerHandle, type HandleListener } from '../container/container-handle.ts';
import type { PortsOf } from '../container/links.ts';
import type { ContainerEvent, MainNotice } from '../container/protocol.ts';
import { appBuildHash, runtimeBuild } from './build-hash.ts';
import { ClusterStoreClient } from './cluster-store.ts';
import { bridgeIn, bridgeOut, LinkRegistry } from './link-bridge.ts';
import type { DeployRequest, NodeEvent } from './node-protocol.ts';
import { Rpc } from './rpc.ts';

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
  /** A container silent this long is hung and replaced. Default 3000 ms. */
  heartbeatTimeoutMs?: number;
  /** Rejoin after the supervisor's connection is lost. Default true. */
  rejoin?: boolean;
  log?: (line: string) => void;
};

type HostedApp = {
  app: string;
  epoch: number;
  handles: ContainerHandle[];
  links: PeerConnection[];
};

/**
 * A node: one process that joins the cluster supervisor, announces its container slots, and hosts the
 * containers the supervisor places on it. Each container is the same worker thread as in one process
 * (ContainerHandle, container-worker.ts), loading the application module from this node's disk; its
 * control calls, events and snapshot store are relayed over the node's one cluster connection, and its
 * streams to containers on other nodes go over node-to-node links (link-bridge.ts), never through the
 * supervisor. When the supervisor's connection is lost (or it declared this node dead) every container
 * here stops at once: they are fenced, their work is redone elsewhere.
 */
export class ClusterNode {
  readonly nodeId: string;
  readonly #o: NodeOptions;
  readonly #apps = new Map<string, HostedApp>();
  readonly #links = new LinkRegistry();
  #data!: ClusterServer;
  #rpc: Rpc | undefined;
  #stopping = false;
  #joined: Promise<void> | undefined;
  /** Which of the `join` URLs answered last. */
  #at = 0;
  #watch: NodeJS.Timeout | undefined;

  private constructor(options: NodeOptions) {
    this.#o = options;
    this.nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
  }

  static async start(options: NodeOptions): Promise<ClusterNode> {
    const node = new ClusterNode(options);
    node.#data = await ClusterServer.listen({
      host: options.dataHost ?? '127.0.0.1',
      port: options.dataPort ?? 0,
      secret: options.secret,
      onPeer: (peer) => node.#links.admit(peer),
    });
    const limit = options.heartbeatTimeoutMs ?? 3000;
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
    rpc.note({ t: 'hello', dataUrl: this.dataUrl });
    this.#rpc = rpc;
    this.#log(
      `joined ${url} as ${this.nodeId} (${this.#o.containers ?? 2} containers, data ${this.dataUrl})`,
    );
    void peer.closed.then((code) => this.#lost(code));
  }

  /** The supervisor is gone or declared us dead: stop everything here (fenced), then try to rejoin. */
  async #lost(code: number): Promise<void> {
    this.#rpc = undefined;
    await Promise.all([...this.#apps.keys()].map((app) => this.#terminate(app)));
    if (this.#stopping || this.#o.rejoin === false) return;
    this.#log(`lost the supervisor (${code}); containers stopped; rejoining`);
    let delay = 200;
    while (!this.#stopping) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        this.#joined = this.#join();
        await this.#joined;
        return;
      } catch (e) {
        this.#log(`rejoin failed: ${(e as Error).message}`);
        delay = Math.min(delay * 2, 2000);
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
          h.started = true;
          void h.api.start();
        }
        return null;
      case 'proposeStop':
        return Promise.all(this.#current(a[0], a[1]).map((h) => h.api.proposeStop())).then((ws) =>
          ws.map((w) => w ?? null),
        );
      case 'setFinalWindow':
        for (const h of this.#current(a[0], a[1])) void h.api.setFinalWindow(a[2] as number);
        return null;
      case 'failActor':
        for (const h of this.#current(a[0], a[1]))
          if (h.actors.includes(a[2] as string)) void h.api.failActor(a[2] as string, a[3] as string);
        return null;
      case 'openTap':
      case 'closeTap':
        return this.#tap(method, a);
      case 'terminate':
        return this.#terminate(a[0] as string);
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
    for (const h of this.#current(n.app, n.epoch)) h.notify(n.n as MainNotice);
  }

  #current(app: unknown, epoch: unknown): ContainerHandle[] {
    const hosted = this.#apps.get(app as string);
    return hosted !== undefined && hosted.epoch === epoch ? hosted.handles : [];
  }

  async #deploy(req: DeployRequest): Promise<number> {
    await this.#terminate(req.app);
    const rpc = this.#rpc!;
    const hosted: HostedApp = { app: req.app, epoch: req.epoch, handles: [], links: [] };
    this.#apps.set(req.app, hosted);
    const listener: HandleListener = {
      event: (h, e: ContainerEvent) => {
        if (this.#apps.get(req.app) === hosted)
          this.#send({ t: 'ev', app: req.app, epoch: req.epoch, c: h.container, e });
      },
      died: (h, reason) => {
        if (this.#apps.get(req.app) === hosted)
          this.#send({ t: 'died', app: req.app, epoch: req.epoch, c: h.container, reason });
      },
    };
    const r = req.config.restoreWindow;
    for (const { container, actors } of req.hosted) {
      const data = { module: req.module, applicationName: req.app, container, containers: req.containers };
      hosted.handles.push(new ContainerHandle(container, actors, r, data, listener));
    }
    const planned = await Promise.all(hosted.handles.map((h) => h.api.actorIds()));
    for (const [i, ids] of planned.entries()) {
      if (ids.join(',') !== req.expected)
        throw new Error(
          `node ${this.nodeId}: container ${hosted.handles[i]!.container} planned the application differently`,
        );
    }
    const ports = await this.#connect(req, hosted);
    const store = new ClusterStoreClient(req.storeLocation, rpc, req.app, req.epoch);
    const logged = await Promise.all(
      hosted.handles.map((h) => h.deploy(req.config, store, ports.get(h.container)!)),
    );
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
      if (from && !to) dials.push(this.#dial(link.toUrl, stream, pair.port2, hosted));
      if (to && !from)
        void this.#links
          .claim(stream)
          .then(({ peer, early }) => this.#accepted(peer, early, pair.port1, hosted));
    }
    await Promise.all(dials);
    return ports;
  }

  async #dial(url: string, stream: string, port: MessagePort, hosted: HostedApp): Promise<void> {
    // Zero mask: the link carries the stream's bytes, and masking them in JS was a tenth of each relay's
    // CPU (client.ts, zeroMask).
    const peer = await joinCluster(url, { secret: this.#o.secret, zeroMask: true });
    peer.send({ t: 'link', stream });
    hosted.links.push(peer);
    bridgeOut(port, peer);
    this.#watchLink(peer, hosted);
  }

  #accepted(
    peer: PeerConnection,
    early: Parameters<typeof bridgeIn>[2],
    port: MessagePort,
    hosted: HostedApp,
  ): void {
    if (this.#apps.get(hosted.app) !== hosted) {
      peer.close('stale link');
      return;
    }
    hosted.links.push(peer);
    bridgeIn(port, peer, early);
    this.#watchLink(peer, hosted);
  }

  /** A data link lost while its containers run: the consumer's side reports it as a container failure. */
  #watchLink(peer: PeerConnection, hosted: HostedApp): void {
    void peer.closed.then(() => {
      if (this.#apps.get(hosted.app) !== hosted || this.#stopping) return;
      this.#send({ t: 'link-lost', app: hosted.app, epoch: hosted.epoch, remote: peer.remote });
    });
  }

  async #terminate(app: string): Promise<null> {
    const hosted = this.#apps.get(app);
    this.#links.drop(`${app}/`);
    if (hosted === undefined) return null;
    this.#apps.delete(app);
    for (const l of hosted.links) l.close('containers stopped');
    await Promise.all(hosted.handles.map((h) => h.terminate()));
    return null;
  }

  #checkBeats(limit: number): void {
    const now = performance.now();
    for (const [app, hosted] of this.#apps) {
      for (const h of hosted.handles) {
        if (h.ended || now - h.lastBeat <= limit) continue;
        const silent = Math.round(now - h.lastBeat);
        void h.terminate();
        this.#send({
          t: 'died',
          app,
          epoch: hosted.epoch,
          c: h.container,
          reason: `sent no heartbeat for ${silent} ms (limit ${limit} ms): an operator is stuck in synchronous code`,
        });
      }
    }
  }

  #send(e: NodeEvent): void {
    this.#rpc?.note(e);
  }

  #log(line: string): void {
    this.#o.log?.(line);
  }

  /** Leaves the cluster: every container stops, the connection closes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#watch);
    await Promise.all([...this.#apps.keys()].map((app) => this.#terminate(app)));
    this.#rpc?.peer.close('node stopping');
    await this.#data.close();
  }
}
