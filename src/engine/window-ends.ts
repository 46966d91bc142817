import type { Actor } from './actor.ts';

/**
 * The newest window that every actor has ended, kept up to date in constant time per window end. The
 * minimum over all actors at each end cost O(actors²) per window: a single thread with 8,000 actors spent
 * most of each window there.
 */
export class WindowEnds {
  /** Each actor instance's last ended window, as known here (a replaced instance is not in it). */
  private readonly level = new Map<Actor, number>();
  /** Window -> how many actors ended it last. */
  private readonly count = new Map<number, number>();
  /** The newest window every actor has ended (+∞ with no actor). */
  min = Number.POSITIVE_INFINITY;

  /** Starts over from the actors' own `lastEnded` (at launch and after a recovery rebuilt some). */
  reset(actors: readonly Actor[]): void {
    this.level.clear();
    this.count.clear();
    this.min = Number.POSITIVE_INFINITY;
    for (const a of actors) {
      this.level.set(a, a.lastEnded);
      this.count.set(a.lastEnded, (this.count.get(a.lastEnded) ?? 0) + 1);
      if (a.lastEnded < this.min) this.min = a.lastEnded;
    }
  }

  /** `actor` ended window `w`; returns the newest window every actor has ended. */
  ended(actor: Actor, w: number): number {
    const from = this.level.get(actor);
    if (from === undefined || w <= from) return this.min;
    this.level.set(actor, w);
    const left = this.count.get(from)! - 1;
    if (left === 0) this.count.delete(from);
    else this.count.set(from, left);
    this.count.set(w, (this.count.get(w) ?? 0) + 1);
    // Some actor is at w, so this stops there at the latest.
    while (!this.count.has(this.min)) this.min++;
    return this.min;
  }
}
