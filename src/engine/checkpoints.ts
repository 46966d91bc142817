import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { Actor, ActorSnapshot } from './actor.ts';
import type { ActorGraph } from './actor-graph.ts';
import { describe } from './failure.ts';
import type { StatusEvent } from './status.ts';
import type { Supervision } from './supervision.ts';

/**
 * The store side of checkpointing: snapshots and window-log entries go out asynchronously and are
 * tracked until they land; a durable snapshot is reported to the supervision, and when that advances the
 * committed window, buffers purge, actors hear `committed(w)`, and what the commit made obsolete is
 * deleted (keeping the previous commit too, so a corrupt newest snapshot can fall back).
 */
export class Checkpoints {
  /** The newest committed window (at launch: the window restored from). */
  committed = 0;
  /**
   * The oldest window a recovery can still restore at: snapshots below it are deleted and the window logs
   * only reach back to the window after it (the previous commit).
   */
  replayableFrom = 0;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly plan: PhysicalPlan,
    private readonly graph: ActorGraph,
    private readonly store: SnapshotStore,
    private readonly supervision: Supervision,
    private readonly events: {
      emit(event: StatusEvent): void;
      fail(actor: Actor, error: unknown): void;
      /** Something landed: the scheduler should look again. */
      landed(): void;
      /** After a kill, nothing that lands may act any more. */
      killed(): boolean;
    },
  ) {}

  get writing(): boolean {
    return this.inFlight.size > 0;
  }

  /** Waits for every write in flight (before a recovery chooses its window). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  save(actor: Actor, window: number, snapshot: ActorSnapshot): void {
    const write = this.store.saveSnapshot(actor.id, window, snapshot).then(
      () => {
        if (this.events.killed()) return;
        this.events.emit({ type: 'checkpoint', actorId: actor.id, window });
        this.graph.byId.get(actor.id)?.noteCheckpointed(window);
        const committed = this.supervision.checkpointed(actor.id, window);
        if (committed !== undefined) this.commit(committed);
      },
      (e) => {
        if (!actor.disposed) this.events.fail(actor, e);
      },
    );
    this.track(write);
  }

  appendWindowLog(actor: Actor, window: number, counts: number[]): Promise<void> {
    const write = this.store.appendWindowLog(actor.id, window, { counts });
    this.track(write);
    return write;
  }

  private commit(committed: number): void {
    this.events.emit({ type: 'commit', window: committed });
    for (const ch of this.graph.channels.values()) ch.purgeThrough(committed);
    for (const a of this.graph.actors) a.noteCommitted(committed);
    const previous = this.committed;
    this.committed = committed;
    this.replayableFrom = previous;
    // Recorded before anything is deleted: how far back a recovery can still go (see NoValidCheckpointError).
    const cleanup = Promise.all([
      this.store.putMeta('committed', committed),
      this.store.putMeta('replayableFrom', previous),
    ]).then(async () => {
      if (previous <= 0) return;
      for (const a of this.plan.actors) {
        await this.store.deleteSnapshotsBelow(a.id, previous);
        if (a.isInput) await this.store.deleteWindowLogBelow(a.id, previous + 1);
      }
    });
    this.track(
      cleanup.catch((e) => this.events.emit({ type: 'warning', message: `commit cleanup: ${describe(e)}` })),
    );
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    const done = () => {
      this.inFlight.delete(p);
      this.events.landed();
    };
    p.then(done, done);
  }
}
