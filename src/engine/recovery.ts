import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { Actor, ActorSnapshot } from './actor.ts';
import type { ActorGraph } from './actor-graph.ts';
import { OperatorFailure } from './failure.ts';
import { OperatorActor } from './operator-actor.ts';
import { checkContiguous, loadSnapshots } from './restore.ts';

/**
 * Puts actors back at a checkpoint (docs/guarantees.md, Recovery): the recovery set is rebuilt from its
 * classes and restored at window r; channels it writes drop what it wrote after r; channels it reads replay
 * what they still buffer (everything after the committed window), and the restored consumers skip windows
 * ≤ r; restored input operators get their window log after r, to cut each replayed window where it
 * ended the first time.
 */
export class Recovery {
  constructor(
    private readonly graph: ActorGraph,
    private readonly store: SnapshotStore,
    private readonly debug: { skipDedupe?: boolean; skipReplay?: boolean } = {},
  ) {}

  /** Rebuilds `set` at window r; returns the fresh actors (not yet set up). */
  async recover(set: ReadonlySet<string>, r: number, committed: number): Promise<Actor[]> {
    const snapshots = await loadSnapshots(this.store, [...set], r);
    const old = [...set].map((id) => this.graph.byId.get(id)!);
    for (const a of old) a.dispose();
    await Promise.allSettled(old.map(async (a) => a.teardown()));
    await this.restore(set, r, snapshots);
    for (const id of set) for (const ch of this.graph.channelsFrom(id)) ch.truncateAfter(r);
    for (const id of set) {
      for (const ch of this.graph.channelsInto(id)) {
        ch.rewindAfter(this.debug.skipReplay ? Number.MAX_SAFE_INTEGER : committed);
      }
    }
    return [...set].map((id) => this.graph.byId.get(id)!);
  }

  /** Fresh actors for `set`, at window r with the given snapshots (none: initial state). */
  async restore(set: ReadonlySet<string>, r: number, snapshots: Map<string, ActorSnapshot>): Promise<void> {
    try {
      this.graph.replace(set, (actor) => this.prepare(actor, r, snapshots.get(actor.id)));
    } catch (e) {
      // A constructor cannot know the window its instance is built for: r.
      if (!(e instanceof OperatorFailure && e.phase === 'construct')) throw e;
      throw new OperatorFailure(e.actorId, e.operator, r, 'construct', e.cause);
    }
    for (const a of this.graph.inputActors) {
      if (!set.has(a.id)) continue;
      const entries = await this.store.readWindowLog(a.id, r + 1, Number.MAX_SAFE_INTEGER);
      checkContiguous(this.store.location, a.id, r, [...entries.keys()]);
      a.replayLog = new Map([...entries].map(([w, e]) => [w, e.counts]));
    }
  }

  private prepare(actor: Actor, r: number, snapshot: ActorSnapshot | undefined): void {
    if (snapshot) actor.restore(snapshot);
    actor.window = r;
    actor.lastEnded = r;
    if (actor instanceof OperatorActor) {
      actor.floor = r;
      actor.skipDedupe = this.debug.skipDedupe ?? false;
    }
  }
}
