/**
 * The large-state bench's hot loop alone (see large-state.ts): the CPU time of `get` + `set` on 1 M small
 * keys, a plain Map against a DurableMap, and of iterating the values once. One variant per fresh process:
 * `node --expose-gc --import tsx bench/large-state-ops.ts '<OpsJob JSON>'` prints an OpsResult.
 *
 * The DurableMap is checkpointed once before the loop (a base, encoded to the end), as the engine does at
 * its first checkpoint, so that the loop pays for what a running operator pays: the change tracking.
 */
import { DurableMap } from '../src/index.ts';
import { IncrementalCapture } from '../src/storage/incremental-capture.ts';
import { DEFAULT_INCREMENTAL_OPTIONS } from '../src/storage/incremental-record.ts';

export interface OpsJob {
  durable: boolean;
  keys: number;
  /** get + set pairs in the timed loop. */
  ops: number;
}

export interface OpsResult {
  /** CPU time (user + system, GC threads included) of the get/set loop. */
  loopCpuMs: number;
  /** CPU time of one pass over the values. */
  iterateCpuMs: number;
  /** Sum of the values after the loop (a correctness check: `ops`). */
  sum: number;
}

/** The large-state bench's key per tuple (large-state-run.ts): updates spread over the whole map. */
const keyOf = (n: number, keys: number) => `k${(n * 2654435761) % keys}`;

const cpuMs = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};

export function runOps(job: OpsJob): OpsResult {
  const map: Map<string, number> = job.durable ? new DurableMap<string, number>() : new Map();
  for (let i = 0; i < job.keys; i++) map.set(`k${i}`, 0);
  if (job.durable) IncrementalCapture.take('state', 1, { map }, DEFAULT_INCREMENTAL_OPTIONS).finish();
  globalThis.gc?.();
  const t0 = process.cpuUsage();
  for (let n = 0; n < job.ops; n++) {
    const key = keyOf(n, job.keys);
    map.set(key, (map.get(key) ?? 0) + 1);
  }
  const loopCpuMs = cpuMs(t0);
  const t1 = process.cpuUsage();
  let sum = 0;
  for (const v of map.values()) sum += v;
  return { loopCpuMs, iterateCpuMs: cpuMs(t1), sum };
}

if (process.argv[1]?.endsWith('large-state-ops.ts')) {
  const result = runOps(JSON.parse(process.argv[2] ?? '') as OpsJob);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
