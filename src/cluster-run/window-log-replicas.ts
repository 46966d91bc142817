import { SluiceError } from '../core/errors.ts';
import type { WindowLogEntry } from '../storage/snapshot-store.ts';
import type { Rpc } from './rpc.ts';

/*
 * Window-log entries made durable by two node processes while no supervisor holds the application.
 *
 * An input operator's end marker leaves only once its window-log entry is durable (docs/guarantees.md):
 * a window whose cut reached a sink must be cut the same way by any relaunch. With the supervisor (and
 * its store) down, "durable" means held by two node processes: the writing node keeps the entry here
 * (and as a held store call, HeldCalls) and replicates it to another node hosting the application at the
 * same epoch, over that node's data port; the end marker leaves on the replica's ack. Either node
 * surviving keeps the cut: a restarted supervisor collects every node's held entries (`heldLogs`) and
 * writes those of its store's epoch before it adopts or relaunches (adoption.ts, writeHeldLogs).
 *
 *   input's END ─▶ node A: held call + HeldWindowLogs ─replica(app, epoch, actor, window, entry)─▶ node B
 *        ▲                                                                   HeldWindowLogs, ack │
 *        └──────────────────────────────── released on the ack ◀──────────────────────────────────┘
 *
 * Entries outlive the containers (a grace that ran out, a failure while unadopted): they stay until a
 * commit covers them or a newer epoch is deployed here (the supervisor collected them before that).
 */

/** epoch (the writing node's application epoch), actor, window, entry. */
export type HeldLogEntry = readonly [epoch: number, actorId: string, window: number, entry: WindowLogEntry];

/** A node refused to hold another node's entry (not hosting the application at that epoch). */
export class ReplicaRefusedError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_CLUSTER_REPLICA_REFUSED', message);
  }
}

/** The window-log entries a node holds per application (its own and other nodes' replicas). */
export class HeldWindowLogs {
  readonly #apps = new Map<string, Map<string, HeldLogEntry>>();

  add(app: string, e: HeldLogEntry): void {
    let entries = this.#apps.get(app);
    if (entries === undefined) this.#apps.set(app, (entries = new Map()));
    const key = `${e[1]}\u0000${e[2]}`;
    const had = entries.get(key);
    if (had === undefined || had[0] <= e[0]) entries.set(key, e);
  }

  /** In order: by actor, then window (the order an input wrote them). */
  entries(app: string): HeldLogEntry[] {
    const all = [...(this.#apps.get(app)?.values() ?? [])];
    return all.sort((a, b) => (a[1] === b[1] ? a[2] - b[2] : a[1] < b[1] ? -1 : 1));
  }

  count(app: string): number {
    return this.#apps.get(app)?.size ?? 0;
  }

  /** A commit covers these windows: the store has their entries (the supervisor collected them first). */
  committed(app: string, window: number): void {
    this.#keep(app, (e) => e[2] > window);
  }

  /** A deploy at `epoch`: entries of older epochs were collected before it (or are another life's). */
  deployed(app: string, epoch: number): void {
    this.#keep(app, (e) => e[0] >= epoch);
  }

  #keep(app: string, keep: (e: HeldLogEntry) => boolean): void {
    const entries = this.#apps.get(app);
    if (entries === undefined) return;
    for (const [k, e] of entries) if (!keep(e)) entries.delete(k);
    if (entries.size === 0) this.#apps.delete(app);
  }
}

/**
 * The done window a node sends its containers while no supervisor holds their application (undefined:
 * none, pacing stays where it is): its own containers' newest window all finished (the streams to other
 * nodes' containers stay bounded by their credits), at most `windowsWhileDown` past the supervisor's
 * last (`appDone`: what producers keep since the commit grows with every window, and commits wait),
 * nothing once half the held-bytes bound is held (the snapshots held meanwhile), and never backwards.
 */
export function doneWithoutSupervisor(o: {
  readonly dones: readonly number[];
  readonly appDone: number;
  /** The done window last sent (by the supervisor or this node). */
  readonly paced: number;
  readonly heldBytes: number;
  readonly heldLimit: number;
  readonly windowsWhileDown: number;
}): number | undefined {
  if (o.dones.length === 0 || o.heldBytes * 2 > o.heldLimit) return undefined;
  const done = Math.min(o.appDone + o.windowsWhileDown, ...o.dones);
  return done > o.paced ? done : undefined;
}

/** Checks a `replica` call's arguments from another node: (app, epoch, actorId, window, entry). */
export function replicaArgs(a: readonly unknown[]): { app: string; entry: HeldLogEntry } {
  const [app, epoch, actorId, window, entry] = a;
  const counts = (entry as { counts?: unknown } | null)?.counts;
  if (
    typeof app !== 'string' ||
    typeof epoch !== 'number' ||
    typeof actorId !== 'string' ||
    typeof window !== 'number' ||
    !Array.isArray(counts) ||
    !counts.every((c) => typeof c === 'number')
  )
    throw new ReplicaRefusedError('malformed replica');
  return { app, entry: [epoch, actorId, window, { counts: counts as number[] }] };
}

/**
 * The sending side: one connection per peer node's data port (dialled on first use, dropped when it
 * closes), a replica tried on each peer in turn until one acks. A peer that does not answer within
 * `timeoutMs` (frozen) is passed over; none acking: false (the entry stays held until a supervisor).
 */
export class ReplicaLinks {
  readonly #peers = new Map<string, Promise<Rpc>>();

  constructor(
    private readonly dial: (url: string) => Promise<Rpc>,
    private readonly timeoutMs = 3000,
  ) {}

  async replicate(urls: readonly string[], app: string, e: HeldLogEntry): Promise<boolean> {
    for (const url of urls) {
      try {
        const rpc = await this.#rpc(url);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no ack from ${url}`)), this.timeoutMs);
        });
        try {
          await Promise.race([rpc.call('replica', app, ...e), late]);
        } finally {
          clearTimeout(timer);
        }
        return true;
      } catch {
        // Refused (not hosting it at this epoch), gone or frozen: the next peer.
      }
    }
    return false;
  }

  #rpc(url: string): Promise<Rpc> {
    const had = this.#peers.get(url);
    if (had !== undefined) return had;
    const p = this.dial(url).then((rpc) => {
      void rpc.peer.closed.then(() => {
        if (this.#peers.get(url) === p) this.#peers.delete(url);
      });
      return rpc;
    });
    p.catch(() => {
      if (this.#peers.get(url) === p) this.#peers.delete(url);
    });
    this.#peers.set(url, p);
    return p;
  }

  close(): void {
    for (const p of this.#peers.values()) p.then((rpc) => rpc.peer.close('node stopping')).catch(() => {});
    this.#peers.clear();
  }
}
