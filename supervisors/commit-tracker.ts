/**
 * The committed window: the newest window that every actor has checkpointed (all actors checkpoint at
 * the same window ids, so it is the minimum over actors of their newest durable checkpoint).
 */
export class CommitTracker {
  private readonly windows = new Map<string, number[]>();
  committed: number;

  constructor(actorIds: readonly string[], restoredWindow: number) {
    this.committed = restoredWindow;
    for (const id of actorIds) this.windows.set(id, restoredWindow > 0 ? [restoredWindow] : []);
  }

  /** Records a durable checkpoint; returns the committed window if it advanced. */
  record(actorId: string, window: number): number | undefined {
    const list = this.windows.get(actorId);
    if (!list) return undefined;
    if (!list.includes(window)) {
      list.push(window);
      list.sort((a, b) => a - b);
    }
    let min = Number.POSITIVE_INFINITY;
    for (const l of this.windows.values()) min = Math.min(min, l.length > 0 ? l[l.length - 1]! : 0);
    if (min <= this.committed) return undefined;
    this.committed = min;
    for (const l of this.windows.values()) while (l.length > 1 && l[0]! < min) l.shift();
    return min;
  }

  /** The newest window that every actor of `ids` has a durable checkpoint of (0: none, start over). */
  newestCommon(ids: Iterable<string>): number {
    let common: number[] | undefined;
    for (const id of ids) {
      const l = this.windows.get(id) ?? [];
      common = common === undefined ? [...l] : common.filter((w) => l.includes(w));
    }
    return common && common.length > 0 ? Math.max(...common) : Math.min(this.committed, 0);
  }
}
