/**
 * The committed window: the newest window that every actor has checkpointed. Usually every actor
 * checkpoints every window id in turn, but a failed snapshot write leaves a hole (an actor with 3 and 7
 * but not 6), so it is the newest window in the intersection, never just the smallest newest one.
 */
export class CommitTracker {
  private readonly windows = new Map<string, Set<number>>();
  /**
   * Per window past the commit, how many actors have a durable checkpoint of it: a record is constant
   * time (an intersection over every actor at each record was quadratic in the actors per checkpoint).
   */
  private readonly holders = new Map<number, number>();
  committed: number;

  constructor(actorIds: readonly string[], restoredWindow: number) {
    this.committed = restoredWindow;
    for (const id of actorIds) this.windows.set(id, new Set(restoredWindow > 0 ? [restoredWindow] : []));
  }

  /** Records a durable checkpoint; returns the committed window if it advanced. */
  record(actorId: string, window: number): number | undefined {
    const set = this.windows.get(actorId);
    if (!set || window <= this.committed || set.has(window)) return undefined;
    set.add(window);
    const holders = (this.holders.get(window) ?? 0) + 1;
    this.holders.set(window, holders);
    // Only the window just recorded can have joined the intersection.
    if (holders < this.windows.size) return undefined;
    this.committed = window;
    // Older checkpoints will never be a recovery window again (recovery windows are ≥ the commit).
    for (const s of this.windows.values()) for (const w of s) if (w < window) s.delete(w);
    for (const w of this.holders.keys()) if (w <= window) this.holders.delete(w);
    return window;
  }

  /** The newest window that every actor of `ids` has a durable checkpoint of (0: none, start over). */
  newestCommon(ids: Iterable<string>): number {
    const sets = [...ids].map((id) => this.windows.get(id) ?? new Set<number>());
    if (sets.length === 0) return 0;
    let newest = 0;
    for (const w of sets[0]!) if (w > newest && sets.every((s) => s.has(w))) newest = w;
    return newest;
  }
}
