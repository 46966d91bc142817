import type { Redis } from 'ioredis';
import { FencedOutputError, type OperatorContext, SluiceError, WindowFencedOutput } from '../../src/index.ts';
import type { AverageRecord } from '../machine-data/types.ts';
import {
  type Backoff,
  checkRedisUrl,
  operatorConnection,
  type RedisRetryListener,
  reportingTo,
  whenConnected,
  withRetry,
} from './retry.ts';

export interface RedisAverageOutputProps {
  /** `redis://host:port/db` */
  url: string;
  /** First part of every key. Default: the application's name. */
  prefix?: string;
  backoff?: Backoff;
  /** How long setup waits for Redis before it fails (a restartable failure). Default 30 s. */
  connectTimeoutMs?: number;
  /** Redis down and back up (default: a stderr line per outage). */
  onRetry?: RedisRetryListener;
}

/** The transaction was refused by something other than the fence: a key of ours holds another type. */
export class RedisApplyError extends SluiceError {
  constructor(key: string, cause: Error) {
    super(
      'SLUICE_REDIS_APPLY',
      `Redis refused a write to ${key} inside the window's transaction (${cause.message}): another program ` +
        "writes to this output's keys; give the output a prefix of its own.",
      { cause },
    );
  }
}

/** EXEC returned nil: the fence or the last window moved after WATCH. Read again and decide. */
class WatchConflict extends Error {}

/**
 * Writes the case study's averages to Redis exactly once: per streaming window, one `MULTI`/`EXEC` holds
 * the window's writes and the window's id, so a window is in Redis whole or not at all, and a replayed
 * window (at or below the last applied one) is skipped.
 *
 * Keys (P = `props.prefix`, default the application name; A = the actor id, e.g. `redis-out` or
 * `redis-out#2` for a partition):
 *
 *     P:avg:<record key>   hash  cpu, ram, hdd (averages), count (readings averaged), window (that wrote it)
 *                                e.g. machine-data:avg:customer=3,os=11|day=20789|minute=607
 *     P:last-window:A      string  the newest window this partition applied
 *     P:fence:A            string  the newest epoch that claimed this partition (fencing, below)
 *
 * One HSET per record key, all of a window's in its transaction, a thousand of them in one EVAL (few, wide
 * commands). A key written again in a later window is overwritten (the newest average of that minute and
 * dimension).
 *
 * Fencing (WindowFencedOutput): setup claims `P:fence:A` for `ctx.epoch` with a Lua script (raise,
 * never lower; refuse if newer), then reads `P:last-window:A`. An apply is
 *
 *     WATCH fence last-window; MGET fence last-window
 *       fence > epoch          → FencedOutputError (a newer instance took over; write nothing)
 *       last-window ≥ window   → done (an earlier attempt's EXEC landed; its reply was lost)
 *       else MULTI; EVAL (HSET …)…; SET last-window window; EXEC   (nil: someone moved them; start over)
 *
 * Redis down: the apply retries with backoff (`onRetry`) until it succeeds or the runtime's lifecycle
 * timeout fails the operator (restarted from its checkpoint, still exactly once). The connection never
 * queues or re-sends commands by itself (retry.ts), so every retry goes through the checks above.
 * Windows without records write nothing (not even their id: nothing of theirs can be applied twice).
 */
export class RedisAverageOutput extends WindowFencedOutput<AverageRecord, {}, RedisAverageOutputProps> {
  /** Redis calls retried, and whether Redis is unreachable now (the operator's metrics). */
  readonly redisRetries = this.metric('redis_retries');
  readonly redisDown = this.metric('redis_down', { kind: 'gauge', aggregate: 'max' });
  private readonly report = reportingTo(
    { retries: this.redisRetries, down: this.redisDown },
    this.props.onRetry,
  );
  private client!: Redis;
  private prefix = '';
  private fenceKey = '';
  private windowKey = '';
  private closed = false;

  constructor(props?: RedisAverageOutputProps) {
    super(props);
    checkRedisUrl('redis average output', this.props.url, 'redis://host:port/db');
  }

  /** The key a record's averages are written to. */
  static recordKey(prefix: string, record: Pick<AverageRecord, 'key'>): string {
    return `${prefix}:avg:${record.key}`;
  }

  /** A setup that fails (fenced, Redis unavailable) gets no teardown: close the connection here. */
  override async setup(ctx: OperatorContext): Promise<void> {
    try {
      await super.setup(ctx);
    } catch (e) {
      this.closed = true;
      this.client?.disconnect();
      throw e;
    }
  }

  protected override async open(): Promise<void> {
    this.prefix = this.props.prefix ?? this.ctx.applicationName;
    this.fenceKey = `${this.prefix}:fence:${this.ctx.actorId}`;
    this.windowKey = `${this.prefix}:last-window:${this.ctx.actorId}`;
    this.client = operatorConnection(
      this.props.url,
      `sluice:${this.ctx.applicationName}:${this.ctx.actorId}`,
    );
    const client = this.client;
    await whenConnected(client, {
      operator: this.ctx.actorId,
      url: this.props.url,
      timeoutMs: this.props.connectTimeoutMs ?? 30_000,
      onRetry: this.report,
      signal: this.ctx.stopSignal,
    });
  }

  protected override async claim(epoch: number): Promise<void> {
    const newest = await withRetry(
      async () => Number(await this.client.eval(CLAIM, 1, this.fenceKey, String(epoch))),
      this.setupRetryOptions('claim'),
    );
    if (newest > epoch) throw new FencedOutputError(`redis ${this.fenceKey}`, epoch, newest);
  }

  protected async lastAppliedWindow(): Promise<number> {
    return Number(
      (await withRetry(() => this.client.get(this.windowKey), this.setupRetryOptions('GET'))) ?? 0,
    );
  }

  protected async applyWindow(window: number, records: AverageRecord[], epoch: number): Promise<void> {
    if (records.length === 0) return;
    await withRetry(() => this.tryApply(window, records, epoch), {
      ...this.retryOptions('MULTI/EXEC'),
      fatal: (e) => e instanceof FencedOutputError || e instanceof RedisApplyError,
      // A lost WATCH race is no outage: retry at once.
      backoff: { ...this.props.backoff, baseMs: 1 },
    });
  }

  protected override async close(): Promise<void> {
    this.closed = true;
    await this.client?.quit().catch(() => this.client.disconnect());
  }

  private async tryApply(window: number, records: AverageRecord[], epoch: number): Promise<void> {
    const c = this.client;
    await c.watch(this.fenceKey, this.windowKey);
    const [fence, last] = await c.mget(this.fenceKey, this.windowKey);
    if (Number(fence ?? 0) > epoch) {
      await c.unwatch();
      throw new FencedOutputError(`redis ${this.fenceKey}`, epoch, Number(fence));
    }
    if (Number(last ?? 0) >= window) {
      await c.unwatch();
      return;
    }
    const m = c.multi();
    // The HSETs of HSETS_PER_SCRIPT keys in one EVAL: one queued command (and promise) per chunk, not per
    // key. A window of 200,000 keys made as many ioredis commands, and their garbage stalled the thread.
    for (let from = 0; from < records.length; from += HSETS_PER_SCRIPT) {
      const chunk = records.slice(from, from + HSETS_PER_SCRIPT);
      const args: string[] = new Array(chunk.length * 6);
      chunk.forEach((r, i) => {
        args[i] = RedisAverageOutput.recordKey(this.prefix, r);
        const a = chunk.length + i * 5;
        args[a] = String(r.cpu);
        args[a + 1] = String(r.ram);
        args[a + 2] = String(r.hdd);
        args[a + 3] = String(r.count);
        args[a + 4] = String(r.window);
      });
      m.eval(HSET_RECORDS, chunk.length, ...args);
    }
    m.set(this.windowKey, String(window));
    const replies = await m.exec();
    if (replies === null)
      throw new WatchConflict(`window ${window}: ${this.fenceKey} or ${this.windowKey} moved`);
    const failed = replies.findIndex(([e]) => e);
    if (failed >= 0) {
      const chunks = Math.ceil(records.length / HSETS_PER_SCRIPT);
      const key =
        failed < chunks
          ? `${RedisAverageOutput.recordKey(this.prefix, records[failed * HSETS_PER_SCRIPT]!)} (or one of the ${HSETS_PER_SCRIPT - 1} keys after it)`
          : this.windowKey;
      throw new RedisApplyError(key, replies[failed]![0]!);
    }
  }

  /** In setup, retrying ends after connectTimeoutMs: a setup failure is restarted, and torn down here. */
  private setupRetryOptions(operation: string) {
    return {
      ...this.retryOptions(operation),
      giveUpAfterMs: this.props.connectTimeoutMs ?? 30_000,
      stopped: () => this.closed || this.ctx.stopSignal?.aborted === true,
    };
  }

  private retryOptions(operation: string) {
    return {
      operator: this.ctx.actorId,
      operation,
      backoff: this.props.backoff,
      onRetry: this.report,
      stopped: () => this.closed,
    };
  }
}

/** Raises the fence to ARGV[1] unless it is higher already; returns the fence. */
/** Record keys written by one EVAL of HSET_RECORDS. */
const HSETS_PER_SCRIPT = 1000;

/** KEYS: the record keys; ARGV: cpu, ram, hdd, count, window of each key in turn. */
const HSET_RECORDS = `
for i = 1, #KEYS do
  local a = (i - 1) * 5
  redis.call('HSET', KEYS[i], 'cpu', ARGV[a + 1], 'ram', ARGV[a + 2], 'hdd', ARGV[a + 3], 'count', ARGV[a + 4], 'window', ARGV[a + 5])
end
return #KEYS
`;

const CLAIM = `
local f = redis.call('GET', KEYS[1])
if f and tonumber(f) > tonumber(ARGV[1]) then return f end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;
