/**
 * Partition keys must land on the same partition in every process and after every restart, so the hash
 * is a fixed function of the key's value (FNV-1a for strings, an integer mix for numbers), never of
 * object identity or a per-process seed.
 */
export function hashKey(key: unknown): number {
  if (typeof key === 'number' && Number.isInteger(key)) return mixInt(key);
  if (typeof key === 'string') return fnv1a(key);
  if (typeof key === 'bigint') return fnv1a(key.toString());
  if (typeof key === 'number') return fnv1a(String(key));
  if (typeof key === 'boolean') return key ? 1 : 0;
  return fnv1a(JSON.stringify(key) ?? String(key));
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mixInt(n: number): number {
  let h = (n | 0) ^ Math.floor(n / 0x100000000);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

export function partitionOf(key: unknown, partitions: number): number {
  return hashKey(key) % partitions;
}
