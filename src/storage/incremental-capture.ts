import type { DurableMap } from '../api/durable-map.ts';
import { encodeState } from './codec.ts';
import { withCaptureScope } from './durable-map-codec.ts';
import { StateNotEncodableError } from './errors.ts';
import type { IncrementalCheckpoint, IncrementalOptions, MapPart } from './incremental-record.ts';
import { type EncodeJob, MapTracker } from './map-tracker.ts';

type AnyMap = DurableMap<unknown, unknown>;

/**
 * One incremental checkpoint being taken (see incremental-record.ts). Created synchronously at the end of
 * the window: the skeleton is encoded and every DurableMap's checkpoint is fixed (base or delta, and its
 * captured contents, copy-on-write); the maps' slices are then encoded by `step()` — all at once when
 * small, otherwise a slice per scheduler turn while the actor runs on.
 */
export class IncrementalCapture {
  readonly skeleton: Uint8Array;
  readonly chainFrom: number;
  private readonly parts: Array<{ part: MapPart; job: EncodeJob<unknown, unknown> }> = [];
  private readonly refs = new Map<AnyMap, unknown[]>();
  /** Encodings of earlier checkpoints still running when this one was taken: they go first. */
  private readonly earlier: EncodeJob<unknown, unknown>[] = [];

  private constructor(
    readonly actorId: string,
    readonly window: number,
    snapshot: unknown,
    private readonly options: IncrementalOptions,
  ) {
    try {
      this.skeleton = withCaptureScope({ reference: (map) => this.reference(map) }, () =>
        encodeState(snapshot),
      );
    } catch (err) {
      throw new StateNotEncodableError({ kind: 'snapshot', actorId, window }, { cause: err });
    }
    // At most one earlier encoding may go on: older ones are finished now (the encoder is free again),
    // so a run that checkpoints faster than it can encode waits here, a bounded backlog behind.
    for (const job of this.earlier.splice(0, Math.max(0, this.earlier.length - 1))) job.finish();
    let from = window;
    for (const ref of this.refs.values()) from = Math.min(from, ref[1] as number);
    this.chainFrom = from;
  }

  /**
   * Takes the checkpoint. If the snapshot holds no DurableMap, `incremental` is false and `skeleton` is
   * simply the snapshot's CBOR (store it as plain state, sealed as it is: no second encoding).
   */
  static take(
    actorId: string,
    window: number,
    snapshot: unknown,
    options: IncrementalOptions,
  ): IncrementalCapture {
    return new IncrementalCapture(actorId, window, snapshot, options);
  }

  get incremental(): boolean {
    return this.parts.length > 0;
  }

  /** Entries still to encode. */
  get remaining(): number {
    let n = 0;
    for (const job of this.earlier) n += job.remaining;
    for (const { job } of this.parts) n += job.remaining;
    return n;
  }

  /** Encodes one slice; true once every map is encoded. */
  step(): boolean {
    for (const job of this.earlier) if (!job.done) return job.step() && this.allDone();
    for (const { job } of this.parts) if (!job.done) return job.step() && this.allDone();
    return true;
  }

  private allDone(): boolean {
    return this.earlier.every((j) => j.done) && this.parts.every((p) => p.job.done);
  }

  finish(): void {
    while (!this.step()) {}
  }

  /** The checkpoint to store (once `step()` returned true): see recordPieces. */
  checkpoint(): IncrementalCheckpoint {
    return { skeleton: this.skeleton, chainFrom: this.chainFrom, parts: this.parts.map((p) => p.part) };
  }

  /** Fixes one map's checkpoint and returns the reference the skeleton holds in its place. */
  private reference(map: AnyMap): unknown[] {
    const known = this.refs.get(map);
    if (known) return known;
    const t = MapTracker.of(map);
    // Earlier checkpoints' slices are encoded before this one's (not now: the encoder is busy with the
    // skeleton and is not re-entrant); a delta may copy a base still being encoded.
    this.earlier.push(...t.unfinished());
    const slot = this.parts.length;
    // A delta holds every key changed since the base: once the deltas written since the base add up to
    // more than the map, a base is the cheaper way on (as renting stops paying past the price).
    const changed = t.changedEstimate(map.size);
    const canDelta =
      t.base !== undefined &&
      (t.copy !== undefined || t.baseSlices !== undefined) &&
      changed <= map.size * this.options.baseFraction &&
      t.written + changed <= map.size;
    let part: MapPart;
    if (canDelta) {
      t.written += changed;
      part = { slot, kind: 'delta', slices: [] };
      if (t.copy === undefined) {
        const copy = t.baseSlices!;
        part.baseCopy = copy.slices;
        part.copyGroups = copy.groups;
        part.copyCounts = copy.counts;
        t.copy = [this.window, slot];
        t.baseSlices = undefined;
      }
    } else {
      t.needBase(map.size);
      t.base = [this.window, slot];
      part = { slot, kind: 'base', slices: [] };
    }
    const job = this.startJob(map, t, part);
    if (part.kind === 'base') t.baseSlices = { slices: job.slices, groups: job.groups, counts: job.counts };
    const [bw, bs] = t.base!;
    const [cw, cs] = t.copy ?? [-1, -1];
    const ref = [slot, bw, bs, cw, cs];
    this.refs.set(map, ref);
    return ref;
  }

  private startJob(map: AnyMap, t: MapTracker<unknown, unknown>, part: MapPart): EncodeJob<unknown, unknown> {
    const job = t.startJob(map, part.kind === 'base', this.options.sliceEntries);
    // The job fills these arrays as it goes (the part is read once the job is done).
    part.slices = job.slices;
    part.groups = job.groups;
    part.counts = job.counts;
    part.sizes = job.sizes;
    this.parts.push({ part, job });
    return job;
  }
}
