import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { AverageRecord } from '../actors/machine-data/types.ts';
import { record, startOutput } from '../test/actors/redis-output-kit.ts';
import { startRedisProcess } from '../test/setup/redis-process.ts';
import { formatRate, perSecond, spread, timeOnce } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

/** The case study's dense key count: every dimension key of one minute (64 combinations of the fields). */
const FULL_KEYS = 78_336;
const FIELDS_PER_KEY = 5; // cpu, ram, hdd, count, window

function windowRecords(keys: number, window: number): AverageRecord[] {
  return Array.from({ length: keys }, (_, i) =>
    record(`device=${i % 50}|k=${i}|day=20400|minute=7`, window, i % 97),
  );
}

/**
 * RedisAverageOutput as it runs: per window WATCH, MGET, then MULTI with one HSET of 5 fields per key and
 * the window id, EXEC (docs/redis.md).
 */
async function operatorLayout(url: string, windows: AverageRecord[][]): Promise<void> {
  const out = await startOutput({ url, prefix: 'bench', onRetry: () => {} }, Date.now());
  for (let w = 0; w < windows.length; w++) await out.window(w + 1, windows[w]!);
  await out.op.teardown();
}

/** The baseline: one wide HSET per window (every key's fields in one hash) and the window id, in MULTI/EXEC. */
async function wideLayout(client: Redis, windows: AverageRecord[][]): Promise<void> {
  for (let w = 0; w < windows.length; w++) {
    // A Map, not spread arguments: 390 k arguments would overflow the call stack.
    const fields = new Map<string, string>();
    for (const r of windows[w]!) {
      fields
        .set(`${r.key}:cpu`, String(r.cpu))
        .set(`${r.key}:ram`, String(r.ram))
        .set(`${r.key}:hdd`, String(r.hdd));
      fields.set(`${r.key}:count`, String(r.count)).set(`${r.key}:window`, String(r.window));
    }
    await client
      .multi()
      .hset(`bench-wide:w${w + 1}`, fields)
      .set('bench-wide:last-window', String(w + 1))
      .exec();
  }
}

/**
 * Redis writes from one ioredis connection: the averages of a window written as RedisAverageOutput writes
 * them (one HSET per key in a fenced MULTI/EXEC) against one wide HSET per window (the fastest layout, the
 * baseline), on a redis-server of our own on loopback. Each round runs both, in alternating order, on an
 * emptied database, in this process; the figures are medians of the rounds with their range.
 */
export const redisWritesSection: Section = {
  title: 'Redis writes (RedisAverageOutput)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const keys = o.quick ? 4_096 : FULL_KEYS;
    const windowCount = o.quick ? 2 : 3;
    const rounds = Math.max(o.runs, o.quick ? 1 : 5);
    const redis = await startRedisProcess();
    const url = `${redis.url}/0`;
    const client = new Redis(url);
    try {
      const windows = Array.from({ length: windowCount }, (_, w) => windowRecords(keys, w + 1));
      const fields = keys * FIELDS_PER_KEY * windowCount;
      const rates: Record<'operator' | 'wide', number[]> = { operator: [], wide: [] };
      const ratios: number[] = [];
      for (let i = 0; i < rounds; i++) {
        o.progress(`redis writes: round ${i + 1} of ${rounds}`);
        const order = i % 2 === 0 ? (['operator', 'wide'] as const) : (['wide', 'operator'] as const);
        const ms: Record<string, number> = {};
        for (const v of order) {
          await client.flushdb();
          const t = await timeOnce(() =>
            v === 'operator' ? operatorLayout(url, windows) : wideLayout(client, windows),
          );
          ms[v] = t.ms;
          rates[v].push(perSecond(fields, t.ms));
        }
        ratios.push(ms.wide! / ms.operator!);
      }
      // The operator's output is all there: every key of the last window.
      await operatorLayout(url, windows);
      const written = await client.hget(`bench:avg:${windows.at(-1)![keys - 1]!.key}`, 'window');
      if (written !== String(windowCount)) throw new BenchError(`RedisAverageOutput wrote window ${written}`);

      const op = spread(rates.operator);
      const wide = spread(rates.wide);
      const r = spread(ratios);
      const fmt = (s: { min: number; median: number; max: number }) =>
        `${formatRate(s.median)} (${formatRate(s.min)}–${formatRate(s.max)})`;
      return {
        lines: [
          `${windowCount} windows of ${keys} keys × ${FIELDS_PER_KEY} fields, one connection, ${rounds} rounds interleaved, in-process:`,
          `  per-key HSET in fenced MULTI/EXEC (the operator): ${fmt(op)} field writes, ${formatRate(op.median / FIELDS_PER_KEY)} keys`,
          `  one wide HSET per window (baseline):              ${fmt(wide)} field writes`,
          `  operator / baseline: ${r.median.toFixed(2)}× (range ${r.min.toFixed(2)}–${r.max.toFixed(2)})`,
        ],
        figures: {
          redisOperatorFieldsPerSecond: op.median,
          redisOperatorKeysPerSecond: op.median / FIELDS_PER_KEY,
          redisWideFieldsPerSecond: wide.median,
          redisOperatorToWideRatio: r.median,
          redisOperatorToWideRatioMin: r.min,
          redisOperatorToWideRatioMax: r.max,
        },
      };
    } finally {
      client.disconnect();
      await redis.stop();
    }
  },
};

// Runnable alone: `node --expose-gc --import tsx bench/redis-writes.ts [--quick]`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const report = await redisWritesSection.run({
    keys: 'typed',
    quick,
    runs: quick ? 1 : 5,
    isolate: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${redisWritesSection.title}\n${report.lines.join('\n')}\n`);
}
