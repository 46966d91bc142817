import { commonSnapshotWindows } from '../engine/restore.ts';
import type { Supervision } from '../engine/supervision.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import { type CrossLink, downstreamClosure } from './links.ts';

/** What a partial restart needs to know of a running container. */
export type ContainerLife = { readonly container: number; readonly started: boolean };

/**
 * The containers a partial restart replaces: the failed ones and every container downstream of them (a
 * consumer of a replaced producer restores at the same checkpoint, or it would see windows twice). The
 * others keep running; their streams into the replaced ones replay what they kept since the commit.
 * Undefined when that is every container, or when one outside it never started (a failure while
 * deploying): then all of them restart. Shared by ContainerRun (threads) and ClusterRun (nodes).
 */
export function replacementSet(
  links: readonly CrossLink[],
  failed: Iterable<number>,
  lives: readonly ContainerLife[],
): Set<number> | undefined {
  const set = downstreamClosure(links, failed);
  if (set.size >= lives.length || lives.some((l) => !set.has(l.container) && !l.started)) return undefined;
  return set;
}

/**
 * The replaced actors were restored at `r` from snapshots in the store and will not checkpoint `r` again.
 * Their containers may have been lost after a snapshot of `r` was written and before its `checkpointed`
 * notice arrived: the commit tracker must count those snapshots now, or a window past the commit would
 * never be committed (at the final window, the run would never end). Returns a new commit, if any.
 */
export function countRestored(commits: Supervision, ids: readonly string[], r: number): number | undefined {
  let committed: number | undefined;
  for (const id of ids) committed = commits.checkpointed(id, r) ?? committed;
  return committed;
}

/**
 * At the end of a failed run: snapshots that reached the store after their container's death was decided
 * (the `checkpointed` notice lost with it, or ignored from a container being replaced) count for the
 * commit too, so that the run reports the window a relaunch goes on from, as the store says. Callers
 * ignore its failure: a store that fails now leaves the commit as heard (the run's failure says why).
 */
export async function countStoredCheckpoints(
  store: SnapshotStore,
  commits: Supervision,
  ids: readonly string[],
): Promise<void> {
  const r = Math.max(0, ...(await commonSnapshotWindows(store, ids)));
  if (r > commits.committedWindow) countRestored(commits, ids, r);
}
