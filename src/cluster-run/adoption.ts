import type { Supervision } from '../engine/supervision.ts';
import { containerOf } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import type { SnapshotStore } from '../storage/snapshot-store.ts';
import type { HostedAnnounce } from './node-protocol.ts';
import type { HeldLogEntry } from './window-log-replicas.ts';

/*
 * A restarted supervisor adopting an application's running containers instead of relaunching them.
 *
 *   supervisor killed ── nodes: containers run on (grace), store calls held, inputs pause at the next
 *        │                      window end (its window log entry is held), the rest drains
 *   supervisor started on the same store ── nodes rejoin, announce (app, epoch, containers, done windows)
 *        │
 *        ├─ every container of the plan announced once, at the store's epoch ──▶ adopt: same epoch,
 *        │    commit bookkeeping from the store's snapshots, nodes flush held calls, pacing resumes
 *        └─ otherwise (a node missing, grace over, another epoch) ──▶ relaunch from the committed
 *             checkpoint with a raised epoch; what is left of the old epoch is fenced
 */

/** An application a node announced as running there. */
export type AnnouncedApp = HostedAnnounce & { readonly nodeId: string };

/** Where an adopted container runs, and the epoch it was deployed in (its store calls carry it). */
export type AdoptedAt = { readonly node: string; readonly epoch: number };

/**
 * Container → the node running it, when the announcements of the application at `epoch` (its newest)
 * cover every container of the plan exactly once with the planned actors; else why they do not.
 */
export function adoptablePlacement(
  announced: readonly AnnouncedApp[],
  plan: PhysicalPlan,
  containers: number,
  epoch: number,
): Map<number, AdoptedAt> | string {
  const where = new Map<number, AdoptedAt>();
  for (const a of announced) {
    if (a.epoch !== epoch) continue; // stale: another life's containers, fenced (not adopted)
    for (const c of a.containers) {
      const other = where.get(c.c);
      if (other !== undefined) return `container ${c.c} runs on ${other.node} and on ${a.nodeId}`;
      const planned = plan.actors.filter((x) => containerOf(x) === c.c).map((x) => x.id);
      if (c.actors.join(',') !== planned.join(','))
        return `container ${c.c} on ${a.nodeId} hosts other actors than planned`;
      where.set(c.c, { node: a.nodeId, epoch: c.epoch });
    }
  }
  const missing: number[] = [];
  for (let c = 0; c < containers; c++) if (!where.has(c)) missing.push(c);
  if (missing.length > 0) return `no node announced container ${missing.join(',')} of epoch ${epoch}`;
  return where;
}

/**
 * Waits for the nodes to rejoin and announce until the application is adoptable, at most `waitMs`;
 * gives up sooner once `settleMs` passed and no node announces it at all (the nodes stopped their
 * containers: nothing to wait for). The default settle outlasts a node's rejoin interval (≤ 2 s), so a
 * node that hosts all of an application and rejoins last is still waited for.
 */
export async function awaitAdoptable(
  announced: () => readonly AnnouncedApp[],
  plan: PhysicalPlan,
  containers: number,
  epoch: number,
  waitMs: number,
  settleMs = 2500,
): Promise<Map<number, AdoptedAt> | string> {
  const started = performance.now();
  for (;;) {
    const now = announced();
    const where = adoptablePlacement(now, plan, containers, epoch);
    const waited = performance.now() - started;
    if (typeof where !== 'string' || waited >= waitMs || (waited >= settleMs && now.length === 0))
      return where;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The commit bookkeeping, recovered from the store: the committed window is the newest window every
 * actor has a snapshot of (what the previous supervisor committed, or newer if it died before saying so),
 * and the tracker learns every newer snapshot, so the next commit needs only the ones still to come.
 */
export async function recoverCommits(
  store: SnapshotStore,
  plan: PhysicalPlan,
  commits: Supervision,
): Promise<number> {
  const windows = await Promise.all(plan.actors.map((a) => store.snapshotWindows(a.id)));
  let common: number[] | undefined;
  for (const ws of windows) common = common === undefined ? ws : common.filter((w) => ws.includes(w));
  const r = Math.max(0, ...(common ?? []));
  commits.start(plan, r);
  for (const [i, a] of plan.actors.entries())
    for (const w of windows[i]!.filter((x) => x > r).sort((x, y) => x - y)) commits.checkpointed(a.id, w);
  return r;
}

/**
 * Window-log entries the nodes held while no supervisor ran the application (window-log-replicas.ts:
 * windows cut meanwhile, their end markers released once two nodes held the entry), written to the
 * store before it adopts or relaunches, so a relaunch cuts those windows as they were. Only entries of
 * the store's epoch (another life's are fenced); in order; idempotent (the same entry again is the same
 * put; one below the commit is deleted with the next commit's clean-up). Returns how many were written.
 */
export async function writeHeldLogs(
  store: SnapshotStore,
  epoch: number,
  held: readonly unknown[],
): Promise<number> {
  const entries = new Map<string, HeldLogEntry>();
  for (const e of held) {
    if (!Array.isArray(e)) continue;
    const [at, actorId, window, entry] = e as unknown[];
    const counts = (entry as { counts?: unknown } | null)?.counts;
    if (at !== epoch || typeof actorId !== 'string' || typeof window !== 'number') continue;
    if (!Array.isArray(counts) || !counts.every((c) => typeof c === 'number')) continue;
    entries.set(`${actorId}\u0000${window}`, [at, actorId, window, { counts: counts as number[] }]);
  }
  const ordered = [...entries.values()].sort((a, b) => (a[1] === b[1] ? a[2] - b[2] : a[1] < b[1] ? -1 : 1));
  for (const [, actorId, window, entry] of ordered) await store.appendWindowLog(actorId, window, entry);
  return ordered.length;
}
