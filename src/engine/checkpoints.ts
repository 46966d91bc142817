import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { SealedFrame, sealState } from '../storage/codec.ts';
import { FileWindowLog } from '../storage/file-window-log.ts';
import { FrameBuilder, sealEncoded } from '../storage/frame-builder.ts';
import { IncrementalCapture } from '../storage/incremental-capture.ts';
import {
  DEFAULT_INCREMENTAL_OPTIONS,
  type IncrementalOptions,
  recordPieces,
} from '../storage/incremental-record.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { Actor, ActorSnapshot } from './actor.ts';
import type { ActorGraph } from './actor-graph.ts';
import { describe } from './failure.ts';
import type { StatusEvent } from './status.ts';
import type { Supervision } from './supervision.ts';

/** Actors whose obsolete checkpoints a commit deletes at once. */
const CLEANUP_LANES = 8;

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
  /** Actor instances whose state held no DurableMap at their first checkpoint: saved as plain state. */
  private readonly plain = new WeakSet<Actor>();
  /** Per actor instance, its latest incremental write: the next one waits for it (and fails with it). */
  private readonly lastWrite = new WeakMap<Actor, Promise<unknown>>();
  /** Per actor id, for checkpoints saved or restored here: window -> oldest window it reads. */
  private readonly chainFrom = new Map<string, Map<number, number>>();
  /** Actor ids with incremental checkpoints: cleanup never guesses what they need. */
  private readonly incremental = new Set<string>();
  incrementalOptions: IncrementalOptions = DEFAULT_INCREMENTAL_OPTIONS;
  /** Where this thread appends window log entries itself, when the store has a local directory for them. */
  private readonly windowLog: FileWindowLog | undefined;

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
  ) {
    this.windowLog = store.windowLogDir === undefined ? undefined : new FileWindowLog(store.windowLogDir);
  }

  get writing(): boolean {
    return this.inFlight.size > 0;
  }

  /** Waits for every write in flight (before a recovery chooses its window). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  save(actor: Actor, window: number, snapshot: ActorSnapshot): void {
    if (this.plain.has(actor)) {
      this.noteChain(actor.id, window, window);
      // Sealed here, as the store would, to know its size (a state that fails to encode: the store says so).
      let frame: SealedFrame | undefined;
      try {
        frame = new SealedFrame(sealState(snapshot, { kind: 'snapshot', actorId: actor.id, window }));
      } catch {
        // Not encodable: the store tries again below and rejects with the error, naming the record.
      }
      const written = this.store.saveSnapshot(actor.id, window, frame ?? snapshot);
      this.report(actor, window, written, frame?.bytes.length);
      return;
    }
    const capture = IncrementalCapture.take(actor.id, window, snapshot, this.incrementalOptions);
    this.noteChain(actor.id, window, capture.chainFrom);
    if (capture.incremental) {
      this.report(actor, window, this.saveIncremental(actor, window, capture));
      return;
    }
    // No DurableMap at the first checkpoint: plain state from now on (this encoding is the snapshot).
    this.plain.add(actor);
    const sealed = sealEncoded(capture.skeleton);
    this.report(actor, window, this.store.saveSnapshot(actor.id, window, sealed), sealed.bytes.length);
  }

  /**
   * Small checkpoints are encoded now; large ones a slice per scheduler turn, and their frame assembled a
   * megabyte per turn, so that no turn is blocked for long (the maps keep their captured contents
   * copy-on-write meanwhile). Writes of one actor go out in order, each after the previous one landed: a
   * delta is never durable without its base.
   */
  private saveIncremental(actor: Actor, window: number, capture: IncrementalCapture): Promise<void> {
    const o = this.incrementalOptions;
    if (capture.remaining <= o.syncEntries) capture.finish();
    let frame: Promise<SealedFrame | undefined>;
    if (capture.step()) {
      const builder = new FrameBuilder(recordPieces(capture.checkpoint()));
      frame = builder.step(o.frameBytesPerTurn) ? Promise.resolve(builder.sealed()) : this.inTurns(builder);
    } else frame = this.inTurns(capture);
    const previous = this.lastWrite.get(actor);
    const written = Promise.all([frame, previous]).then(([sealed]) =>
      sealed === undefined || this.events.killed()
        ? undefined
        : this.store.saveSnapshot(actor.id, window, sealed),
    );
    this.lastWrite.set(actor, written);
    return written;
  }

  /** Finishes the encoding, then the frame, a step per scheduler turn (nothing once the run is killed). */
  private inTurns(work: IncrementalCapture | FrameBuilder): Promise<SealedFrame | undefined> {
    const bytes = this.incrementalOptions.frameBytesPerTurn;
    return new Promise((resolve, reject) => {
      let builder = work instanceof FrameBuilder ? work : undefined;
      const turn = () => {
        if (this.events.killed()) return resolve(undefined);
        try {
          if (builder === undefined) {
            if ((work as IncrementalCapture).step())
              builder = new FrameBuilder(recordPieces((work as IncrementalCapture).checkpoint()));
          } else if (builder.step(bytes)) return resolve(builder.sealed());
          setImmediate(turn);
        } catch (e) {
          reject(e);
        }
      };
      setImmediate(turn);
    });
  }

  private noteChain(actorId: string, window: number, from: number): void {
    let windows = this.chainFrom.get(actorId);
    if (windows === undefined) this.chainFrom.set(actorId, (windows = new Map()));
    windows.set(window, from);
    if (from < window) this.incremental.add(actorId);
  }

  private report(actor: Actor, window: number, written: Promise<void>, bytes?: number): void {
    const started = performance.now();
    const write = written.then(
      () => {
        if (this.events.killed()) return;
        const ms = performance.now() - started;
        this.events.emit({ type: 'checkpoint', actorId: actor.id, window, ms, bytes });
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

  /**
   * Written before this returns where the store has a local directory for the window log (one write(2),
   * not a round trip to the thread that owns the store); else a promise of the store's write.
   */
  appendWindowLog(actor: Actor, window: number, counts: number[]): void | Promise<void> {
    if (this.windowLog !== undefined) {
      try {
        const frame = sealState({ counts }, { kind: 'window-log', actorId: actor.id, window });
        this.windowLog.append(actor.id, window, frame);
        return;
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const write = this.store.appendWindowLog(actor.id, window, { counts });
    this.track(write);
    return write;
  }

  /** Applies a commit: from report() in one thread; in a container, on the main thread's commit notice. */
  commit(committed: number): void {
    this.events.emit({ type: 'commit', window: committed });
    for (const ch of this.graph.channels.values()) ch.purgeThrough(committed);
    for (const a of this.graph.actors) a.noteCommitted(committed);
    const previous = this.committed;
    this.committed = committed;
    this.replayableFrom = previous;
    // Recorded before anything is deleted: how far back a recovery can still go (see NoValidCheckpointError).
    for (const a of this.graph.actors) {
      if (a.restoredFrom) this.noteChain(a.id, a.restoredFrom.window, a.restoredFrom.chainFrom);
    }
    const cleanup = Promise.all([
      this.store.putMeta('committed', committed),
      this.store.putMeta('replayableFrom', previous),
    ]).then(async () => {
      if (previous <= 0) return;
      // A few actors at a time: one after the other, a commit of thousands of actors waited out a store
      // round trip per delete (seconds, and a graceful stop waits for the last commit's cleanup).
      const actors = this.plan.actors;
      let next = 0;
      const lane = async () => {
        while (next < actors.length) {
          const a = actors[next++]!;
          const keepFrom = this.keepFrom(a.id, previous);
          if (keepFrom !== undefined) await this.store.deleteSnapshotsBelow(a.id, keepFrom);
          if (a.isInput) await this.store.deleteWindowLogBelow(a.id, previous + 1);
        }
      };
      await Promise.all(Array.from({ length: CLEANUP_LANES }, lane));
    });
    this.track(
      cleanup.catch((e) => this.events.emit({ type: 'warning', message: `commit cleanup: ${describe(e)}` })),
    );
  }

  /**
   * The oldest snapshot of an actor that the checkpoint of `previous` (the older kept generation) reads:
   * itself, or for incremental state the base it builds on. Unknown for an incremental actor (not saved
   * or restored in this process): keep everything this time.
   */
  private keepFrom(actorId: string, previous: number): number | undefined {
    const windows = this.chainFrom.get(actorId);
    const from = windows?.get(previous);
    if (from === undefined) return this.incremental.has(actorId) ? undefined : previous;
    const keep = Math.min(previous, from);
    for (const w of windows!.keys()) if (w < keep) windows!.delete(w);
    return keep;
  }

  /** Closes this thread's window log files (at the end of a run). */
  closeWindowLog(): void {
    this.windowLog?.close();
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
