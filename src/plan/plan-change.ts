/**
 * What changed between the actors a store's checkpoints were written by and those of the plan now
 * launched on it, in words: the refusal (engine/restore.ts) says what to look at, not just "different".
 */
export function describePlanChange(was: readonly string[], now: readonly string[]): string {
  const before = new Set(was);
  const after = new Set(now);
  const added = now.filter((id) => !before.has(id));
  const removed = was.filter((id) => !after.has(id));
  const parts: string[] = [];
  if (added.length > 0) parts.push(`actors added: ${listed(added)}`);
  if (removed.length > 0) parts.push(`actors removed: ${listed(removed)}`);
  // The same actors planned in another order: the streams between them changed.
  if (parts.length === 0)
    parts.push(`the same actors in another order (was ${listed(was)}; now ${listed(now)})`);
  return parts.join('; ');
}

/** Ids shown in a message: a plan of thousands of partitions must not fill the screen. */
const SHOWN = 12;

function listed(ids: readonly string[]): string {
  if (ids.length <= SHOWN) return ids.join(', ');
  return `${ids.slice(0, SHOWN).join(', ')} and ${(ids.length - SHOWN).toLocaleString('en')} more`;
}
