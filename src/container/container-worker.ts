/// <reference path="./comlink.d.ts" />
/**
 * A container: the module a worker thread runs (started by worker-bootstrap.ts). It loads the application
 * module itself (application code never crosses threads), plans it exactly as the main thread did, and
 * hosts the actors placed on its container number; the main thread drives it through comlink.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { isApplication } from '../api/application.ts';
import { SluiceError } from '../core/errors.ts';
import { raiseHeapTrimThreshold } from '../core/heap-trim.ts';
import { recordCalls } from '../engine/call-scope.ts';
import type { Channel } from '../engine/channel.ts';
import type { MetricsReport } from '../metrics/worker-report.ts';
import { assignContainers } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { planPhysical } from '../plan/planner.ts';
import { ContainerRuntime } from './container-runtime.ts';
import { PORT_CREDIT_FACTOR, PortChannelIn, PortChannelOut } from './port-channel.ts';
import type { ContainerEvent, ContainerWorkerData, DeployConfig, MainNotice } from './protocol.ts';
import { RemoteSnapshotStore, type StoreServer } from './remote-store.ts';
import { WORKER_READY } from './spare-workers.ts';

raiseHeapTrimThreshold();
const data = workerData as ContainerWorkerData;
const mod = (await import(data.module)) as { default?: unknown };
if (!isApplication(mod.default) || mod.default.name !== data.applicationName) {
  throw new SluiceError(
    'SLUICE_CONTAINER_MODULE',
    `container ${data.container ?? '(spare)'}: ${data.module} does not export the application "${data.applicationName}" by default`,
  );
}
const plan = assignContainers(planPhysical(mod.default.dag()), data.containers);

/** This container's actors and every channel that touches one of them. */
function localPlan(whole: PhysicalPlan, container: number): PhysicalPlan {
  const here = new Set(whole.actors.filter((a) => (a.container ?? 0) === container).map((a) => a.id));
  return {
    applicationName: whole.applicationName,
    actors: whole.actors.filter((a) => here.has(a.id)),
    channels: whole.channels.filter((c) => here.has(c.from.actor) || here.has(c.to.actor)),
  };
}

let runtime: ContainerRuntime | undefined;
let beat: NodeJS.Timeout | undefined;
/** The ports the current deploy brought (events, store, streams): closed when the worker is recycled. */
let opened: MessagePort[] = [];

/** How long a recycled deploy's teardowns may take before the worker is handed on anyway. */
const RETIRE_TEARDOWN_MS = 2000;

const api = {
  /** Every actor id of the plan as planned here: the main thread checks both threads planned alike. */
  actorIds(): string[] {
    return plan.actors.map((a) => `${a.id}@${a.container ?? 0}`);
  },

  /** Builds and restores this container's actors; resolves with its input operators' last logged window. */
  async deploy(
    config: DeployConfig,
    events: MessagePort,
    storePort: MessagePort,
    ports: { readonly out: Record<number, MessagePort>; readonly in: Record<number, MessagePort> },
    /** Which container this worker is: a spare learns it here (it started before it was needed). */
    container: number,
  ): Promise<number> {
    // A recycled worker (a full restart reuses it): whatever a previous deploy left ends first.
    if (runtime !== undefined) await api.retire();
    opened = [events, storePort, ...Object.values(ports.out), ...Object.values(ports.in)];
    const local = localPlan(plan, container);
    const server = Comlink.wrap<StoreServer>(nodeEndpoint(storePort));
    const store = new RemoteSnapshotStore(await server.location(), server, await server.windowLogDir());
    const send = (e: ContainerEvent) => events.postMessage(e);
    let mine: ContainerRuntime | undefined;
    const wake = () => mine?.wake();
    const channelFor = (ch: { id: number }, capacity: number, source: Channel['source']) => {
      const out = ports.out[ch.id];
      if (out)
        return new PortChannelOut(
          ch.id,
          capacity,
          out,
          wake,
          source,
          config.checkpointWindowCount > 0,
          capacity * PORT_CREDIT_FACTOR,
        );
      const inbound = ports.in[ch.id];
      if (inbound) return new PortChannelIn(ch.id, capacity, inbound, wake, capacity * PORT_CREDIT_FACTOR);
      return undefined;
    };
    if (config.callSite) {
      const site = new Int32Array(config.callSite);
      const indexOf = new Map(local.actors.map((a, i) => [a.id, i]));
      recordCalls(
        (owner) => {
          if (owner === null) Atomics.store(site, 0, 0);
          else {
            Atomics.store(site, 1, owner.window);
            Atomics.store(site, 0, (indexOf.get(owner.id) ?? -1) + 1);
          }
        },
        () => Atomics.add(site, 2, 1),
        site.subarray(3, 4),
      );
    }
    const r = new ContainerRuntime(local, store, config, send, channelFor);
    runtime = r;
    mine = r;
    // This deploy's runtime, not the module's current one: a recycled worker's next deploy has its own.
    events.on('message', (m: MainNotice) => {
      if (m.t === 'done') r.noteApplicationDone(m.window);
      else if (m.t === 'commit') r.noteCommitted(m.window);
      else r.noteRestored(m.window);
    });
    beat = setInterval(
      () => send({ t: 'beat', operators: r.operatorStats(), metrics: r.metricsReport() }),
      config.heartbeatMs,
    );
    return r.restore();
  },

  /**
   * Ends this deploy (its actors disposed and torn down, its ports closed) and keeps the worker, its
   * loaded modules and compiled code, for the next deploy: a full restart's survivors restore in place
   * instead of in new workers (seconds of CPU each to load on a busy machine).
   */
  async retire(): Promise<void> {
    clearInterval(beat);
    const r = runtime;
    runtime = undefined;
    for (const p of opened.splice(0)) p.close();
    await r?.retire(RETIRE_TEARDOWN_MS);
  },

  /** Runs until done (the main thread hears `finished`) or a failure (it hears `failed`). */
  start(): void {
    const r = runtime!;
    r.run().catch((e: unknown) => {
      // Not an operator's failure: the runtime itself broke. The worker dies with it ('error' on the main thread).
      setImmediate(() => {
        throw e;
      });
    });
  },

  proposeStop(): number | undefined {
    return runtime?.proposeStop();
  },

  setFinalWindow(w: number): void {
    runtime?.setFinalWindow(w);
  },

  abandon(w: number): void {
    runtime?.abandon(w);
  },

  /** The consumer of channel `channelId` was replaced: replay what is kept into its new port. */
  rewire(channelId: number, port: MessagePort): void {
    runtime?.rewire(channelId, port);
  },

  failActor(actorId: string, reason: string): void {
    runtime?.failActor(actorId, reason);
  },

  /** A tap on the channels of `port` this container writes; samples come as `tap` events. */
  openTap(tap: number, port: string, channels: number[], sample: number): void {
    runtime?.openTap(tap, port, channels, sample);
  },

  closeTap(tap: number): void {
    runtime?.closeTap(tap);
  },

  /** The metrics since the last heartbeat (the main thread asks before it replaces this container). */
  metricsReport(): MetricsReport | undefined {
    return runtime?.metricsReport();
  },

  /** Stops scheduling at once (the main thread terminates the worker next). */
  halt(): void {
    clearInterval(beat);
    runtime?.kill();
  },
};

export type ContainerApi = typeof api;

Comlink.expose(api, nodeEndpoint(parentPort as unknown as Parameters<typeof nodeEndpoint>[0]));
// The module is loaded: a spare worker is warm from here on (comlink ignores a message without its id).
parentPort?.postMessage(WORKER_READY);
