import { SluiceError } from '../core/errors.ts';
import type { Rpc } from './rpc.ts';

/** The one method of an Rpc that a container's store client needs (ClusterStoreClient). */
export type CallChannel = { call(method: string, ...args: unknown[]): Promise<unknown> };

type Held = {
  readonly app: string;
  readonly method: string;
  readonly args: unknown[];
  readonly bytes: number;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
};

/** A node held more store calls for an application than its bound while the supervisor was away. */
export class HeldCallsOverflowError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_CLUSTER_HELD_OVERFLOW', message);
  }
}

/** The application's containers were stopped (fenced, grace over, redeployed): its held calls are void. */
export class HeldCallsDroppedError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_CLUSTER_HELD_DROPPED', message);
  }
}

/**
 * A node's store calls to the supervisor (snapshots, window logs, commit metadata), per application,
 * surviving a supervisor restart. An application's calls go out on the connection its containers were
 * deployed or adopted on; while that connection is gone (the supervisor died, the node is rejoining, the
 * new supervisor has not adopted the application yet) they are held here in order, up to `limitBytes`
 * for all applications, and sent once the application is adopted on the new connection (`open`). A call
 * the connection's end left unanswered is held and sent again: every store operation is idempotent
 * (a put of the same key and value, a read, a delete below a window).
 *
 *   deployed/adopted on rpc ──rpc closed──▶ held ──adopt on new rpc: open(app)──▶ sent, in order
 *                                            └──grace over / redeployed / overflow: drop(app)──▶ rejected
 *
 * Holding is what keeps the output exactly-once while nothing is durable: an input operator's window log
 * entry is a held call, and its end marker leaves only once the entry is durable — here, once another
 * node holds a replica too (`durableElsewhere`; without one, not before the next supervisor has it).
 */
export class HeldCalls {
  #rpc: Rpc | undefined;
  /** Application → the connection its containers are current on (undefined: not adopted yet). */
  readonly #liveOn = new Map<string, Rpc | undefined>();
  #held: Held[] = [];
  #bytes = 0;

  constructor(
    private readonly limitBytes: number,
    /** The bound was reached for `app`: the node stops its containers (it cannot be adopted any more). */
    private readonly overflow: (app: string) => void,
    /**
     * A held call made durable elsewhere meanwhile (a window-log entry replicated to another node,
     * window-log-replicas.ts): true answers its caller at once; the call stays held for the store.
     */
    private readonly durableElsewhere?: (
      app: string,
      method: string,
      args: unknown[],
    ) => Promise<boolean> | undefined,
  ) {}

  /** The node (re)joined a supervisor: nothing is current on it until deployed or adopted there. */
  connected(rpc: Rpc | undefined): void {
    this.#rpc = rpc;
  }

  /** Whether `app`'s containers are the current ones of the connected supervisor. */
  live(app: string): boolean {
    const on = this.#liveOn.get(app);
    return on !== undefined && on === this.#rpc && on.open;
  }

  /** How many calls and bytes are held (for logs and tests). */
  get held(): { calls: number; bytes: number } {
    return { calls: this.#held.length, bytes: this.#bytes };
  }

  /** `app` was deployed or adopted on the current connection: its held calls go out now, in order. */
  open(app: string): void {
    this.#liveOn.set(app, this.#rpc);
    const mine = this.#held.filter((h) => h.app === app);
    this.#held = this.#held.filter((h) => h.app !== app);
    for (const h of mine) {
      this.#bytes -= h.bytes;
      this.#send(h);
    }
  }

  /** `app`'s containers stopped: its held calls are rejected. */
  drop(app: string, why: string): void {
    this.#liveOn.delete(app);
    const mine = this.#held.filter((h) => h.app === app);
    this.#held = this.#held.filter((h) => h.app !== app);
    for (const h of mine) {
      this.#bytes -= h.bytes;
      h.reject(new HeldCallsDroppedError(`${app}: ${why}`));
    }
  }

  /** The channel `app`'s store client calls through. */
  channel(app: string): CallChannel {
    return {
      call: (method, ...args) =>
        new Promise((resolve, reject) => {
          const bytes = sizeOf(args);
          this.#send({ app, method, args, bytes, resolve, reject });
        }),
    };
  }

  #send(h: Held): void {
    if (!this.#liveOn.has(h.app)) {
      h.reject(new HeldCallsDroppedError(`${h.app} is not hosted here`));
      return;
    }
    if (!this.live(h.app)) {
      this.#hold(h);
      return;
    }
    const rpc = this.#rpc!;
    rpc.call(h.method, ...h.args).then(h.resolve, (e: unknown) => {
      // Unanswered because the connection ended: held for the next supervisor. Any other error is its answer.
      if ((e as { code?: unknown })?.code === 'SLUICE_CLUSTER_CLOSED' && this.#liveOn.has(h.app))
        this.#hold(h);
      else h.reject(e as Error);
    });
  }

  #hold(h: Held): void {
    if (this.#bytes + h.bytes > this.limitBytes) {
      h.reject(
        new HeldCallsOverflowError(
          `${h.app}: more than ${this.limitBytes} bytes of store calls held while the supervisor is away`,
        ),
      );
      this.overflow(h.app);
      return;
    }
    this.#bytes += h.bytes;
    this.#held.push(h);
    this.durableElsewhere?.(h.app, h.method, h.args)?.then(
      (ok) => ok && h.resolve(undefined),
      () => {},
    );
  }
}

function sizeOf(args: readonly unknown[]): number {
  let n = 64;
  for (const a of args) if (a instanceof Uint8Array) n += a.byteLength;
  return n;
}
