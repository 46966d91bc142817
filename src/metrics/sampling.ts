/** How often the collectors (main thread and containers) sample who is blocked and which mailboxes are full. */
export const SAMPLE_MS = 20;

/**
 * Most actors, and most channels, one sample looks at, in turn: a plan of thousands is covered over a few
 * samples instead of costing a few percent of a core (blocked time is counted since an actor was last
 * looked at; fullness is a share of samples either way).
 */
export const SAMPLE_BUDGET = 256;
