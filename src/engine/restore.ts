import { SluiceError } from '../core/errors.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { describePlanChange } from '../plan/plan-change.ts';
import { SnapshotCorruptError, StoreDamagedError } from '../storage/errors.ts';
import { isIncrementalRecord } from '../storage/incremental-record.ts';
import { restoreIncremental } from '../storage/incremental-restore.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { ActorSnapshot } from './actor.ts';

/**
 * The store holds another application, or this one with a different physical plan: `detail` says what
 * changed; `committed` is the last window the store committed (what deleting it would throw away).
 */
export class StorePlanMismatchError extends SluiceError {
  constructor(
    location: string,
    detail: string,
    readonly committed = 0,
  ) {
    const kept =
      committed > 0
        ? `it committed windows up to ${committed}, which stay there untouched`
        : 'it committed no window yet';
    super(
      'SLUICE_STORE_PLAN_MISMATCH',
      `the store ${location} holds checkpoints of a different plan (${detail}); ${kept}; its snapshots cannot restore this plan: use another --store, or delete it to start over`,
    );
  }
}

/** Every checkpoint a recovery could use is damaged: the window logs no longer reach back far enough. */
export class NoValidCheckpointError extends SluiceError {
  constructor(location: string, committed: number) {
    super(
      'SLUICE_NO_VALID_CHECKPOINT',
      `the store ${location} committed window ${committed}, but no checkpoint it still keeps is readable (both kept generations are damaged); the application cannot continue exactly from it: restore the store from a backup, or delete it to start over`,
    );
  }
}

/**
 * The restore window at launch: the newest window that every actor has a valid snapshot of. A corrupt
 * snapshot makes it fall back to the previous common window (the commit keeps two), with a warning.
 */
export async function findRestoreWindow(
  store: SnapshotStore,
  plan: PhysicalPlan,
): Promise<{
  window: number;
  snapshots: Map<string, ActorSnapshot>;
  warnings: string[];
  /** No window was ever logged or checkpointed in this store: nothing of this application was applied from it. */
  untouched: boolean;
}> {
  await checkPlan(store, plan);
  const found = await newestValidCheckpoint(
    store,
    plan.actors.map((a) => a.id),
  );
  const replayableFrom = ((await store.getMeta('replayableFrom')) as number | undefined) ?? 0;
  if (found.window < replayableFrom) {
    const committed = ((await store.getMeta('committed')) as number | undefined) ?? 0;
    throw new NoValidCheckpointError(store.location, committed);
  }
  // Refused here, before anything is deployed (a container would fail to restore, again at each restart).
  let untouched = found.window === 0;
  for (const a of plan.actors) {
    if (!a.isInput) continue;
    const logged = await store.readWindowLog(a.id, found.window + 1, Number.MAX_SAFE_INTEGER);
    checkContiguous(store.location, a.id, found.window, [...logged.keys()]);
    if (logged.size > 0) untouched = false;
  }
  found.warnings.unshift(...(store.openWarnings ?? []));
  return { ...found, untouched };
}

/**
 * The newest window below `below` that every one of `ids` has a valid snapshot of, with the snapshots;
 * corrupt ones are skipped with a warning (0 and no snapshots: start from scratch).
 */
export async function newestValidCheckpoint(
  store: SnapshotStore,
  ids: readonly string[],
  below = Number.POSITIVE_INFINITY,
): Promise<{ window: number; snapshots: Map<string, ActorSnapshot>; warnings: string[] }> {
  const warnings: string[] = [];
  const common = await commonSnapshotWindows(store, ids);
  for (const w of common.filter((x) => x < below).sort((a, b) => b - a)) {
    try {
      return { window: w, snapshots: await loadSnapshots(store, ids, w), warnings };
    } catch (e) {
      if (!(e instanceof SnapshotCorruptError)) throw e;
      warnings.push(`${e.message}; falling back to the previous checkpoint`);
    }
  }
  return { window: 0, snapshots: new Map(), warnings };
}

/** The windows that every one of `ids` has a snapshot of in the store (unordered, unvalidated). */
export async function commonSnapshotWindows(store: SnapshotStore, ids: readonly string[]): Promise<number[]> {
  const windows = await Promise.all(ids.map((id) => store.snapshotWindows(id)));
  let common: number[] | undefined;
  for (const ws of windows) common = common === undefined ? ws : common.filter((w) => ws.includes(w));
  return common ?? [];
}

/** Every actor's snapshot of window w (none at w = 0: the actors start from initialState()). */
export async function loadSnapshots(
  store: SnapshotStore,
  ids: readonly string[],
  w: number,
): Promise<Map<string, ActorSnapshot>> {
  const snapshots = new Map<string, ActorSnapshot>();
  if (w === 0) return snapshots;
  for (const id of ids) {
    const s = await store.loadSnapshot(id, w);
    if (s === undefined)
      throw new SluiceError('SLUICE_SNAPSHOT_MISSING', `no snapshot of ${id} at window ${w}`);
    if (isIncrementalRecord(s)) {
      // A DurableMap's base and delta: rebuilt here, so the actor gets its state as it was saved.
      const { snapshot, chainFrom } = await restoreIncremental(store, id, w, s);
      snapshots.set(id, { ...(snapshot as ActorSnapshot), restoredFrom: { window: w, chainFrom } });
    } else snapshots.set(id, s as ActorSnapshot);
  }
  return snapshots;
}

async function checkPlan(store: SnapshotStore, plan: PhysicalPlan): Promise<void> {
  const fingerprint = { application: plan.applicationName, actors: plan.actors.map((a) => a.id) };
  const stored = (await store.getMeta('plan')) as typeof fingerprint | undefined;
  if (stored === undefined) {
    await store.putMeta('plan', fingerprint);
    return;
  }
  const committed = ((await store.getMeta('committed')) as number | undefined) ?? 0;
  if (stored.application !== fingerprint.application) {
    throw new StorePlanMismatchError(
      store.location,
      `application "${stored.application}", not "${fingerprint.application}"`,
      committed,
    );
  }
  if (stored.actors.join('\n') !== fingerprint.actors.join('\n')) {
    const change = describePlanChange(stored.actors, fingerprint.actors);
    throw new StorePlanMismatchError(store.location, `of "${stored.application}": ${change}`, committed);
  }
}

/**
 * An input operator restored at window r replays windows r+1, r+2, … from its log, each cut where it was:
 * the log must hold them without a gap. A commit deletes only entries its checkpoints no longer need, so a
 * gap means the store lost data (a damaged LevelDB log dropped the newer commits, or files were removed).
 */
export function checkContiguous(location: string, actorId: string, r: number, windows: number[]): void {
  windows.sort((a, b) => a - b);
  const missing = windows.findIndex((w, i) => w !== r + 1 + i);
  if (missing < 0) return;
  const expected = r + 1 + missing;
  throw new StoreDamagedError(
    location,
    `the window log of input operator "${actorId}" lacks window ${expected} (it holds windows ${windows[missing]}` +
      `${windows.length > missing + 1 ? `–${windows[windows.length - 1]}` : ''}), but its checkpoints restore window ${r}: ` +
      `windows from ${expected} on cannot be replayed as they were`,
  );
}
