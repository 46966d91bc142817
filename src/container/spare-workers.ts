import type { Worker } from 'node:worker_threads';
import { startContainerWorker } from './worker-bootstrap.ts';

/** What every worker of one application's containers starts with (the container number comes at deploy). */
export interface SpareWorkerData {
  readonly module: string;
  readonly applicationName: string;
  readonly containers: number;
}

/** The message a container worker posts on its parent port once the application module is loaded. */
export const WORKER_READY = 'sluice:container-ready';

interface Spare {
  readonly worker: Worker;
  ready: boolean;
  readonly forget: () => void;
}

/**
 * Warm spare workers for the containers of one application: each already started (tsx, the engine and the
 * application module loaded, ~0.4–1.5 s of CPU on a loaded machine), so a replacement container is a
 * `take()` away instead of a cold start. Reusable wherever containers of one plan are replaced (ContainerRun
 * here; a cluster node for the containers it hosts): `new SpareWorkers(data, n)`, `fill()` once the run is
 * live (not before: spares would compete with the first start for the cores), `take()` in place of
 * `startContainerWorker(data)` — pass the worker to `new ContainerHandle(…, worker)` — `fill()` again once
 * the replacements run, and `close()` at the end.
 *
 * Spares start one at a time (a gentle background cost) and are unref'd while idle (they never keep the
 * process alive). A spare that dies before it is ready (a module that fails to load) stops the refills:
 * `take()` then starts a fresh worker, whose failure the container's handle reports as usual.
 */
export class SpareWorkers {
  readonly #data: SpareWorkerData;
  #size: number;
  readonly #spares: Spare[] = [];
  #starting: Spare | undefined;
  #closed = false;
  #broken = false;
  /** No new spare starts until the next fill() (the application is busy recovering). */
  #held = false;

  constructor(data: SpareWorkerData, size: number) {
    this.#data = data;
    this.#size = Math.max(0, Math.floor(size));
  }

  /** Spares ready or loading now (for tests and measurements). */
  get count(): number {
    return this.#spares.length;
  }

  /** Ready spares now. */
  get readyCount(): number {
    return this.#spares.filter((s) => s.ready).length;
  }

  /**
   * Starts spares, one after the other, until there are `size` of them. Call it again after taking some,
   * once the replacements are running: refilling at once would compete with them for the cores.
   */
  fill(): void {
    this.#held = false;
    this.#next();
  }

  /**
   * Starts no more spares until the next fill() (a spare already loading finishes): while its containers
   * are being replaced, an application's spares would compete with them for the cores.
   */
  hold(): void {
    this.#held = true;
  }

  /** The number of spares to keep from now on; spares over it are terminated (newest first). */
  resize(size: number): void {
    this.#size = Math.max(0, Math.floor(size));
    for (const s of this.#spares.splice(this.#size)) {
      if (s === this.#starting) this.#starting = undefined;
      s.forget();
      void s.worker.terminate();
    }
  }

  /** The number of spares it keeps. */
  get size(): number {
    return this.#size;
  }

  /**
   * A worker for a container of this application: the oldest spare (ready, or furthest along loading:
   * comlink calls to it queue until it is), else a fresh one. The next fill() replaces it.
   */
  take(): Worker {
    const i = this.#spares.findIndex((s) => s.ready);
    const spare = i >= 0 ? this.#spares.splice(i, 1)[0] : this.#spares.shift();
    if (spare === undefined) return startContainerWorker(this.#data);
    if (spare === this.#starting) this.#starting = undefined;
    spare.forget();
    spare.worker.ref();
    return spare.worker;
  }

  /** Terminates every spare; no more start. */
  async close(): Promise<void> {
    this.#closed = true;
    const spares = this.#spares.splice(0);
    this.#starting = undefined;
    await Promise.all(
      spares.map((s) => {
        s.forget();
        return s.worker.terminate();
      }),
    );
  }

  #next(): void {
    if (this.#closed || this.#broken || this.#held || this.#starting !== undefined) return;
    if (this.#spares.length >= this.#size) return;
    const worker = startContainerWorker(this.#data);
    worker.unref();
    const onMessage = (m: unknown) => {
      if (m !== WORKER_READY) return;
      spare.ready = true;
      if (this.#starting === spare) this.#starting = undefined;
      this.#next();
    };
    // An idle spare that fails is dropped; one that failed before it was ready will fail again: no refill.
    const onGone = () => {
      const at = this.#spares.indexOf(spare);
      if (at >= 0) this.#spares.splice(at, 1);
      if (!spare.ready) this.#broken = true;
      if (this.#starting === spare) this.#starting = undefined;
      spare.forget();
      this.#next();
    };
    const spare: Spare = {
      worker,
      ready: false,
      forget: () => {
        worker.off('message', onMessage);
        worker.off('error', onGone);
        worker.off('exit', onGone);
      },
    };
    worker.on('message', onMessage);
    worker.on('error', onGone);
    worker.on('exit', onGone);
    this.#spares.push(spare);
    this.#starting = spare;
  }
}
