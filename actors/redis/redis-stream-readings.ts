import type { Redis } from 'ioredis';
import { InputOperator, type OperatorContext } from '../../src/index.ts';
import type { Reading } from '../machine-data/types.ts';
import { parseReading } from './reading-fields.ts';
import {
  type Backoff,
  checkRedisUrl,
  operatorConnection,
  RedisConfigError,
  type RedisRetryListener,
  reportingTo,
  SLOW_CALL_MS,
  splitStreamUrl,
  whenConnected,
  withRetry,
} from './retry.ts';

export interface RedisStreamReadingsProps {
  /** `redis://host:port/db`, or `redis://host:port/db#stream` naming the stream too. */
  url: string;
  /** The stream key (default: the URL's `#fragment`). */
  stream?: string;
  /**
   * Entries each streaming window takes (the rate; what a window could not take is owed to the next).
   * Default: whatever is there. With a quota and a stream that stays ahead of the reader, every window
   * holds the same entries in every run, killed or not.
   */
  readingsPerWindow?: number;
  /**
   * With `readingsPerWindow`: count windows. A window does not close until it took its entries, waiting
   * for the stream when the producers are behind, so every window holds exactly `readingsPerWindow`
   * entries at any producer rate and two copies of an application on one stream compute the same
   * windows (the lunch test). While the stream delivers nothing the application's windows wait with it
   * (before its first entry, for ever: copies started before the producer agree too). A graceful stop
   * waits while entries still come (30 window lengths at most) and two window lengths for a dry stream,
   * then leaves the window unfinished: the relaunch reads it again whole. Default false: a window takes what
   * arrived while it was open.
   */
  countWindows?: boolean;
  /**
   * Count windows: once the stream, after its first entry, has brought nothing for this long (and
   * nothing is read ahead), the window stops waiting and closes on the clock with what it has, as do the
   * windows after it until entries come again; so the end of a finite stream ends its windows
   * (`--windows N`). A window that closed so with no entry owes nothing onward: after an idle spell the
   * next window takes `readingsPerWindow` again, not a share for every idle window. A producer that
   * pauses longer than this mid-stream cuts a short window (copies may then differ there). Default: the
   * larger of 10 streaming windows and 5 s.
   */
  countWindowsIdleMs?: number;
  /** Most entries per emitTuples() call. Default 1024. */
  batch?: number;
  /** XREAD COUNT: entries per round trip. Default 2048. */
  fetchCount?: number;
  /** XREAD BLOCK when the stream has nothing new, in ms. Default 100. */
  blockMs?: number;
  /**
   * Entries read ahead of what was emitted. Default the larger of 4 × fetchCount and 2 × readingsPerWindow.
   * A call that finds nothing read ahead returns "waiting" and the read that lands wakes the scheduler
   * (ctx.wake()), so the rate is bounded by Redis, not by this.
   */
  prefetch?: number;
  /** The id after which a first launch starts (a concrete id, never `$`: a relaunch must find the same). */
  startId?: string;
  backoff?: Backoff;
  /** How long setup waits for Redis before it fails (a restartable failure). Default 30 s. */
  connectTimeoutMs?: number;
  /** Connection loss and recovery (default: a stderr line per outage). */
  onRetry?: RedisRetryListener;
}

/** An entry that is not a Reading: on the `errors` port, counted in `state.rejected`; never a crash. */
export interface BadReading {
  stream: string;
  id: string;
  reason: string;
  fields: Record<string, string>;
}

export interface RedisStreamReadingsState {
  /** The id of the last entry emitted: a restored instance reads on from here. */
  lastId: string;
  /** Entries the windows so far were entitled to and did not get yet (with `readingsPerWindow`). */
  owed: number;
  /** Entries emitted, good and bad. */
  entries: number;
  rejected: number;
  /** Entries emitted in the current window (count windows; absent in stores written before it). */
  taken?: number;
}

/**
 * Reads device readings from a Redis stream (`XREAD` from a stored offset): the durable, replayable
 * source, as Kafka is in the seeds. Each entry is one Reading in flat fields (reading-fields.ts).
 *
 * Replay: the offset (`lastId`) is state, advanced only as entries are emitted, and a stream is
 * append-only, so an instance restored at a checkpoint reads the same entries in the same order again;
 * the window log cuts each replayed window where it was cut the first time. What a window still owes
 * (`owed`, with `readingsPerWindow`) is state too, so a window closed early never loses its share.
 * Entries read ahead but not emitted are transient (the prefetch buffer): they are read again after a
 * restore. Never trim the stream (XTRIM, MAXLEN) past what the application has committed.
 *
 * emitTuples() is synchronous and XREAD is not, so a background loop keeps up to `prefetch` entries
 * ahead; a call with nothing buffered emits nothing and returns false (waiting on I/O), and the loop wakes
 * the scheduler (ctx.wake()) when its next read lands: no empty calls in a loop while it waits, in a
 * replay either. Connection loss: the loop retries the read with
 * backoff from the same id, so nothing is lost or read twice (reported through `onRetry`).
 *
 * Bad entries (a field missing, not a number, out of range) go to the `errors` port as BadReading and
 * are counted in `state.rejected`; they take their place in the window like any entry.
 */
export class RedisStreamReadings extends InputOperator<RedisStreamReadingsState, RedisStreamReadingsProps> {
  readonly out = this.output<Reading>();
  readonly errors = this.output<BadReading>();
  /** Redis calls retried, and whether Redis is unreachable now (the operator's metrics). */
  /** Bad entries sent to `errors` (counted again when a replay re-reads them; `state.rejected` is exact). */
  readonly rejectedReadings = this.metric('rejected_readings');
  readonly redisRetries = this.metric('redis_retries');
  readonly redisDown = this.metric('redis_down', { kind: 'gauge', aggregate: 'max' });
  private readonly report = reportingTo(
    { retries: this.redisRetries, down: this.redisDown },
    this.props.onRetry,
  );
  private client: Redis | undefined;
  private stream = '';
  private name = 'redis-stream-readings';
  private ids: string[] = [];
  private bodies: string[][] = [];
  private head = 0;
  /** The id after which the loop reads next (ahead of state.lastId by what is buffered). */
  private cursor = '0-0';
  private closed = false;
  private room: (() => void) | undefined;
  private pump: Promise<void> | undefined;
  private ctx: OperatorContext | undefined;
  /** The last emitTuples() call found nothing read ahead: the next read to land wakes the scheduler. */
  private starved = false;
  /** When a read last brought entries (performance.now()), and how long count windows wait past it. */
  private lastEntriesAt = 0;
  private idleMs = 5000;

  constructor(props?: RedisStreamReadingsProps) {
    super(props);
    checkRedisUrl('redis stream readings', this.props.url, 'redis://host:port/db#stream');
    if (this.props.countWindows && this.props.readingsPerWindow === undefined)
      throw new RedisConfigError(
        'redis stream readings',
        'countWindows needs readingsPerWindow (entries a window holds)',
      );
    if (!(this.props.stream ?? splitStreamUrl(this.props.url).stream))
      throw new RedisConfigError(
        'redis stream readings',
        'no stream: set props.stream or end the URL with #stream',
      );
  }

  override initialState(): RedisStreamReadingsState {
    return { lastId: this.props.startId ?? '0-0', owed: 0, entries: 0, rejected: 0 };
  }

  override async setup(ctx: OperatorContext): Promise<void> {
    const { url, stream } = splitStreamUrl(this.props.url);
    this.stream = this.props.stream ?? stream ?? '';
    if (ctx.partitions > 1)
      throw new RedisConfigError(ctx.actorId, `one stream is one partition (got ${ctx.partitions})`);
    this.name = ctx.actorId;
    this.ctx = ctx;
    this.idleMs = this.props.countWindowsIdleMs ?? Math.max(10 * ctx.streamingWindowMs, 5000);
    this.lastEntriesAt = performance.now();
    this.cursor = this.state.lastId;
    this.client = operatorConnection(url, `sluice:${ctx.applicationName}:${ctx.actorId}`);
    const client = this.client;
    try {
      await whenConnected(client, {
        operator: this.name,
        url: url,
        timeoutMs: this.props.connectTimeoutMs ?? 30_000,
        onRetry: this.report,
        signal: ctx.stopSignal,
      });
      // Read ahead in full before the first window: a restored instance replays at once (a replay that runs
      // out of read-ahead waits for the next read, woken by it).
      const setupRetry = {
        ...this.retryOptions('XREAD'),
        giveUpAfterMs: this.props.connectTimeoutMs ?? 30_000,
        stopped: () => this.closed || ctx.stopSignal?.aborted === true,
      };
      while (this.buffered() < this.prefetch()) {
        const entries = await withRetry(() => this.read(0), setupRetry);
        this.append(entries);
        if (entries.length === 0) break;
      }
      this.pump = this.readAhead().catch(() => {});
    } catch (e) {
      // A setup that fails gets no teardown: close the connection here.
      this.closed = true;
      client.disconnect();
      throw e;
    }
  }

  override beginWindow(): void {
    const s = this.state;
    const quota = this.props.readingsPerWindow;
    if (quota === undefined) return;
    // Count windows: a window that closed owing without taking anything closed on an idle stream (or a
    // stop on a dry one): it owes nothing onward, so an idle spell does not pile quota onto one window.
    // State only, so a replay decides the same.
    if (this.props.countWindows === true && (s.taken ?? 0) === 0) s.owed = 0;
    s.taken = 0;
    s.owed += quota;
  }

  /**
   * Count windows: the window stays open until it took its quota — for ever before the stream's first
   * entry, and after it until the stream has been idle for `countWindowsIdleMs`.
   */
  override holdsWindow(): boolean {
    const s = this.state;
    if (this.props.countWindows !== true || s.owed <= 0) return false;
    return this.buffered() > 0 || s.entries === 0 || performance.now() - this.lastEntriesAt < this.idleMs;
  }

  /** Returns false when nothing is read ahead: waiting on the next read, which wakes the scheduler. */
  emitTuples(): boolean {
    if (this.head === this.ids.length) {
      this.starved = true;
      return false;
    }
    const s = this.state;
    const quota = this.props.readingsPerWindow !== undefined;
    let n = Math.min(this.props.batch ?? 1024, this.ids.length - this.head);
    if (quota) n = Math.min(n, s.owed);
    for (let i = 0; i < n; i++) {
      const id = this.ids[this.head]!;
      const body = this.bodies[this.head]!;
      this.head++;
      s.lastId = id;
      s.entries++;
      const r = parseReading(body);
      if (typeof r === 'string') {
        s.rejected++;
        this.rejectedReadings.inc();
        this.errors.emit({ stream: this.stream, id, reason: r, fields: toRecord(body) });
      } else this.out.emit(r);
    }
    if (quota) {
      s.owed -= n;
      s.taken = (s.taken ?? 0) + n;
    }
    if (this.head >= 4096 && this.head * 2 >= this.ids.length) {
      this.ids.splice(0, this.head);
      this.bodies.splice(0, this.head);
      this.head = 0;
    }
    if (this.room && this.buffered() <= this.prefetch() / 2) {
      const wake = this.room;
      this.room = undefined;
      wake();
    }
    return true;
  }

  override async teardown(): Promise<void> {
    this.closed = true;
    this.room?.();
    this.client?.disconnect();
    await this.pump;
  }

  private buffered(): number {
    return this.ids.length - this.head;
  }

  private prefetch(): number {
    const p = this.props;
    return p.prefetch ?? Math.max(4 * (p.fetchCount ?? 2048), 2 * (p.readingsPerWindow ?? 0));
  }

  private async readAhead(): Promise<void> {
    while (!this.closed) {
      if (this.buffered() >= this.prefetch()) {
        await new Promise<void>((resolve) => (this.room = resolve));
        continue;
      }
      const blockMs = this.props.blockMs ?? 100;
      // A blocking read is pending for blockMs by design: only past that is the server slow.
      const entries = await withRetry(() => this.read(blockMs), {
        ...this.retryOptions('XREAD'),
        slowAfterMs: blockMs + SLOW_CALL_MS,
      });
      if (!this.closed) this.append(entries);
    }
  }

  /** XREAD after the cursor; `blockMs` 0: do not block. */
  private async read(blockMs: number): Promise<[string, string[]][]> {
    const args: (string | number)[] = ['COUNT', this.props.fetchCount ?? 2048];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.stream, this.cursor);
    // ioredis' typed overloads do not take a built argument list (and `call` reshapes the reply).
    const xread = this.client!.xread.bind(this.client) as unknown as (
      ...a: (string | number)[]
    ) => Promise<XReadReply>;
    const reply = await xread(...args);
    return reply?.[0]?.[1] ?? [];
  }

  private append(entries: [string, string[]][]): void {
    for (const [id, body] of entries) {
      this.ids.push(id);
      this.bodies.push(body);
    }
    if (entries.length === 0) return;
    this.lastEntriesAt = performance.now();
    this.cursor = entries[entries.length - 1]![0];
    if (this.starved) {
      this.starved = false;
      this.ctx?.wake();
    }
  }

  private retryOptions(operation: string) {
    return {
      operator: this.name,
      operation,
      backoff: this.props.backoff,
      onRetry: this.report,
      stopped: () => this.closed,
    };
  }
}

type XReadReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

function toRecord(body: readonly string[]): Record<string, string> {
  const r: Record<string, string> = {};
  for (let i = 0; i + 1 < body.length; i += 2) r[body[i]!] = body[i + 1]!;
  return r;
}
