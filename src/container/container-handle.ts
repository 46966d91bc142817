/// <reference path="./comlink.d.ts" />
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { OperatorStats } from '../engine/status.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { ContainerApi } from './container-worker.ts';
import type { ContainerEvent, ContainerWorkerData, DeployConfig, MainNotice } from './protocol.ts';
import { storeServer } from './remote-store.ts';
import { startContainerWorker } from './worker-bootstrap.ts';

/**
 * How much longer than the heartbeat limit a synchronous call may run while it still writes batches. A
 * long call is legitimate (a window's end over a very large key space); one that emits without end is
 * still stopped, and would exhaust the worker's memory soon after anyway.
 */
export const BUSY_CALL_LIMIT_FACTOR = 6;

/** What a handle reports to the run that owns it. */
export interface HandleListener {
  event(handle: ContainerHandle, event: ContainerEvent): void;
  /** The worker died (exit, uncaught error) outside a terminate() of ours. */
  died(handle: ContainerHandle, reason: string, cause?: unknown): void;
}

/** A worker given up by a handle without ending it (release()), with the comlink proxy of its API. */
export type ReusableWorker = { readonly worker: Worker; readonly api: Comlink.Remote<ContainerApi> };

/**
 * The main thread's end of one container: its worker, the comlink proxy of its API, the events port, its
 * store server, and what it last reported (done window, tuples, heartbeat, operator stats).
 */
export class ContainerHandle {
  readonly worker: Worker;
  readonly api: Comlink.Remote<ContainerApi>;
  done: number;
  tuples = 0;
  finished = false;
  /** Its actors were set up and scheduled (start() was called). */
  started = false;
  lastBeat = Number.POSITIVE_INFINITY;
  /** Where the worker says which actor it is calling (DeployConfig.callSite). */
  readonly callSite = new SharedArrayBuffer(16);
  /** The batch count last read from callSite, and when it last moved (hangReport). */
  private progressSeen = 0;
  private progressAt = Number.NEGATIVE_INFINITY;
  /** The same for the count of tuples taken in from queues (call-scope.ts, noteConsumed). */
  private consumedSeen = 0;
  private consumedAt = Number.NEGATIVE_INFINITY;
  operators: OperatorStats[] = [];
  private events: MessagePort | undefined;
  private store: MessagePort | undefined;
  private terminating = false;
  private exited = false;
  private terminated: Promise<void> | undefined;

  constructor(
    readonly container: number,
    /** Ids of the actors it hosts. */
    readonly actors: readonly string[],
    restoreWindow: number,
    data: Omit<ContainerWorkerData, 'tsxApi' | 'hooks' | 'entry'>,
    private readonly listener: HandleListener,
    /** A worker already started for this application (SpareWorkers.take()); else a fresh one is started. */
    worker?: Worker,
    /**
     * The API proxy of `worker` when it is one a handle released: the same proxy, never a second one (a
     * dropped comlink proxy, once collected, tells the worker to stop answering).
     */
    api?: Comlink.Remote<ContainerApi>,
  ) {
    this.done = restoreWindow;
    this.worker = worker ?? startContainerWorker(data);
    this.api = api ?? Comlink.wrap<ContainerApi>(nodeEndpoint(this.worker as never));
    this.worker.on('error', this.onError);
    this.worker.on('exit', this.onExit);
  }

  private readonly onError = (e: unknown) => {
    this.reportDeath(`threw an uncaught error: ${String((e as Error)?.message ?? e)}`, e);
  };

  private readonly onExit = (code: number) => {
    this.exited = true;
    this.reportDeath(`its worker exited with code ${code}`);
  };

  /** An uncaught error is followed by the worker's exit: one death, reported with its first cause. */
  private deathReported = false;

  private reportDeath(reason: string, cause?: unknown): void {
    if (this.terminating || this.deathReported) return;
    this.deathReported = true;
    this.listener.died(this, reason, cause);
  }

  /** Builds and restores its actors; resolves with its input operators' last logged window. */
  async deploy(
    config: DeployConfig,
    store: SnapshotStore,
    ports: { out: Record<number, MessagePort>; in: Record<number, MessagePort> },
  ): Promise<number> {
    const events = new MessageChannel();
    const storeChannel = new MessageChannel();
    this.events = events.port1;
    this.store = storeChannel.port1;
    events.port1.on('message', (e: ContainerEvent) => {
      if (e.t === 'beat') {
        this.lastBeat = performance.now();
        this.operators = e.operators;
      }
      this.listener.event(this, e);
    });
    Comlink.expose(storeServer(store), nodeEndpoint(storeChannel.port1 as never));
    this.lastBeat = performance.now();
    const transfer = [
      events.port2,
      storeChannel.port2,
      ...Object.values(ports.out),
      ...Object.values(ports.in),
    ];
    Atomics.store(new Int32Array(this.callSite), 0, 0);
    this.progressAt = Number.NEGATIVE_INFINITY;
    this.consumedAt = Number.NEGATIVE_INFINITY;
    return this.api.deploy(
      { ...config, callSite: this.callSite },
      Comlink.transfer(events.port2, transfer),
      storeChannel.port2,
      ports,
      this.container,
    );
  }

  /** The actor the worker is calling now and its window; undefined between calls. */
  callingNow(): { actor: string; window: number } | undefined {
    const site = new Int32Array(this.callSite);
    const actor = this.actors[Atomics.load(site, 0) - 1];
    return actor === undefined ? undefined : { actor, window: Atomics.load(site, 1) };
  }

  /**
   * Why this container counts as hung at `now`, or undefined while it is not: its heartbeat came within
   * `limitMs`; or it still takes in queued tuples (a slow operator working through a long batch); or it is
   * busy in one long synchronous call that still writes batches (an application window's end emitting
   * hundreds of thousands of records), up to BUSY_CALL_LIMIT_FACTOR × `limitMs`. An endless loop takes in
   * and writes nothing and is caught at `limitMs`; one that emits forever at the longer bound.
   * Called every quarter of `limitMs`, so a moving count is seen.
   */
  hangReport(now: number, limitMs: number): string | undefined {
    const site = new Int32Array(this.callSite);
    const count = Atomics.load(site, 2);
    if (count !== this.progressSeen) {
      this.progressSeen = count;
      this.progressAt = now;
    }
    const consumed = Atomics.load(site, 3);
    if (consumed !== this.consumedSeen) {
      this.consumedSeen = consumed;
      this.consumedAt = now;
    }
    const silent = now - this.lastBeat;
    if (silent <= limitMs) return undefined;
    // Still taking in tuples: a slow operator working through a long batch, however long that takes.
    if (now - this.consumedAt <= limitMs) return undefined;
    const busyLimit = limitMs * BUSY_CALL_LIMIT_FACTOR;
    if (now - this.progressAt <= limitMs && silent <= busyLimit) return undefined;
    const stuck = this.callingNow();
    const where = stuck
      ? `actor ${stuck.actor} (or an actor fused with it) is stuck in synchronous code in window ${stuck.window}`
      : 'an operator is stuck in synchronous code';
    return silent > busyLimit
      ? `sent no heartbeat for ${Math.round(silent)} ms while still emitting (limit for a long call ${busyLimit} ms): ${where}`
      : `sent no heartbeat for ${Math.round(silent)} ms (limit ${limitMs} ms): ${where}`;
  }

  /** terminate() was called: whatever it reports now is moot. */
  get ended(): boolean {
    return this.terminating;
  }

  notify(notice: MainNotice): void {
    this.events?.postMessage(notice);
  }

  /** Ends the worker at once (a synchronous endless loop too) and closes the ports held here. */
  terminate(): Promise<void> {
    if (this.terminated === undefined) this.terminated = this.end();
    return this.terminated;
  }

  /**
   * Gives the worker up without ending it, for a new handle (a full restart reuses the workers of the
   * containers it restarts): its actors end (the worker's `retire`), this handle's ports close and it
   * reports nothing more. Undefined when the worker does not answer within `timeoutMs` (stuck in a
   * loop, or gone) or already ended: then it is terminated.
   */
  async release(timeoutMs: number): Promise<ReusableWorker | undefined> {
    if (this.terminated !== undefined || this.exited) return undefined;
    this.terminating = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const retired = this.api.retire().then(
      () => true,
      () => false,
    );
    const ok = await Promise.race([retired, late]);
    clearTimeout(timer);
    this.events?.close();
    this.store?.close();
    if (!ok || this.terminated !== undefined) {
      await this.terminate();
      return undefined;
    }
    // From here terminate() is a no-op: the worker is the next handle's.
    this.terminated = Promise.resolve();
    this.worker.off('error', this.onError);
    this.worker.off('exit', this.onExit);
    return { worker: this.worker, api: this.api };
  }

  private async end(): Promise<void> {
    this.terminating = true;
    this.events?.close();
    this.store?.close();
    this.api[Comlink.releaseProxy]();
    await this.worker.terminate();
  }
}
