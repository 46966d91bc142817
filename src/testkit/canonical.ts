/** A stable string for a tuple (object keys sorted; Map, Set, BigInt, Date spelled out), for multisets. */
export function canonical(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(v: unknown): unknown {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (v instanceof Date) return { $date: v.toISOString() };
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [normalize(k), normalize(x)]) };
  if (v instanceof Set) return { $set: [...v].map(normalize) };
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, normalize((v as Record<string, unknown>)[k])]),
    );
  }
  if (v === undefined) return { $undefined: true };
  return v;
}

/** Counts of each distinct tuple. */
export function multiset(tuples: readonly unknown[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of tuples) {
    const k = canonical(t);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

export function sameMultiset(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  const ma = multiset(a);
  const mb = multiset(b);
  for (const [k, n] of ma) if (mb.get(k) !== n) return false;
  return true;
}
