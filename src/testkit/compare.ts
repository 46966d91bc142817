import { canonical, multiset } from './canonical.ts';
import type { SinkOutputs } from './output-recorder.ts';

export interface Difference {
  sink: string;
  window: number;
  kind: 'lost' | 'duplicated' | 'unexpected' | 'reordered';
  tuple?: unknown;
  detail: string;
}

export interface CompareOptions {
  /**
   * Check order per key only: the subsequence of tuples with the same key must be the same (the minimum
   * docs/guarantees.md promises: the order from each upstream holds). Without it the whole sequence of
   * each window must be the same, which sluice also keeps (merges hand over inputs in a fixed order).
   */
  keyOf?: (tuple: any) => unknown;
}

/** The first window in which a sink's output differs from the expected (fault-free) output. */
export function firstDifference(
  expected: SinkOutputs,
  actual: SinkOutputs,
  options: CompareOptions = {},
): Difference | undefined {
  const sinks = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const sink of sinks) {
    const exp = expected.get(sink) ?? new Map<number, unknown[]>();
    const act = actual.get(sink) ?? new Map<number, unknown[]>();
    const windows = [...new Set([...exp.keys(), ...act.keys()])].sort((a, b) => a - b);
    for (const window of windows) {
      const d = compareWindow(sink, window, exp.get(window) ?? [], act.get(window) ?? [], options);
      if (d) return d;
    }
  }
  return undefined;
}

function compareWindow(
  sink: string,
  window: number,
  exp: unknown[],
  act: unknown[],
  options: CompareOptions,
): Difference | undefined {
  const me = multiset(exp);
  const ma = multiset(act);
  for (const t of exp) {
    const k = canonical(t);
    if ((ma.get(k) ?? 0) < me.get(k)!) {
      return {
        sink,
        window,
        kind: 'lost',
        tuple: t,
        detail: `expected ${me.get(k)}×, got ${ma.get(k) ?? 0}×`,
      };
    }
  }
  for (const t of act) {
    const k = canonical(t);
    if ((me.get(k) ?? 0) < ma.get(k)!) {
      const kind = me.has(k) ? 'duplicated' : 'unexpected';
      return { sink, window, kind, tuple: t, detail: `expected ${me.get(k) ?? 0}×, got ${ma.get(k)}×` };
    }
  }
  if (!options.keyOf) {
    const i = exp.findIndex((t, j) => canonical(t) !== canonical(act[j]));
    if (i < 0) return undefined;
    return {
      sink,
      window,
      kind: 'reordered',
      tuple: act[i],
      detail: `position ${i}: expected ${canonical(exp[i])}`,
    };
  }
  const byKey = (list: unknown[]) => {
    const m = new Map<string, string[]>();
    for (const t of list) {
      const key = canonical(options.keyOf!(t));
      const seq = m.get(key) ?? [];
      seq.push(canonical(t));
      m.set(key, seq);
    }
    return m;
  };
  const ke = byKey(exp);
  const ka = byKey(act);
  for (const [key, seq] of ke) {
    const other = ka.get(key)!;
    const i = seq.findIndex((s, j) => s !== other[j]);
    if (i >= 0) {
      return {
        sink,
        window,
        kind: 'reordered',
        tuple: JSON.parse(other[i]!),
        detail: `key ${key}: position ${i} expected ${seq[i]}, got ${other[i]}`,
      };
    }
  }
  return undefined;
}

export function describeDifference(d: Difference): string {
  return `sink ${d.sink}, window ${d.window}: ${d.kind} tuple ${canonical(d.tuple)} (${d.detail})`;
}

/**
 * Each sink's windows joined into one stream (as window 0): what must not depend on where window
 * boundaries fall. Compare two of these with `firstDifference` (with `keyOf`, where partitions merge).
 */
export function streamOf(outputs: SinkOutputs): SinkOutputs {
  const joined: SinkOutputs = new Map();
  for (const [sink, windows] of outputs) {
    const ids = [...windows.keys()].sort((a, b) => a - b);
    joined.set(sink, new Map([[0, ids.flatMap((w) => windows.get(w)!)]]));
  }
  return joined;
}
