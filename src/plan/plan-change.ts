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
  if (added.length > 0) parts.push(`actors added: ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`actors removed: ${removed.join(', ')}`);
  // The same actors planned in another order: the streams between them changed.
  if (parts.length === 0)
    parts.push(`the same actors in another order (was ${was.join(', ')}; now ${now.join(', ')})`);
  return parts.join('; ');
}
