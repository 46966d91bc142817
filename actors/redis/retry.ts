import { Redis, type RedisOptions } from 'ioredis';
import {
  confirmDatabase,
  isRedisAuthError,
  isRedisUrl,
  REDIS_AUTH_HINT,
  redactUrl,
  redisDatabaseOf,
  SluiceError,
  watchSlow,
} from '../../src/index.ts';

/** Redis did not answer within the operator's connectTimeoutMs (a restartable setup failure). */
export class RedisUnavailableError extends SluiceError {
  constructor(operator: string, url: string, ms: number, cause: unknown) {
    super(
      'SLUICE_REDIS_UNAVAILABLE',
      `${operator}: no connection to ${redactUrl(url)} within ${ms} ms (${cause instanceof Error ? cause.message : 'no answer'}): ` +
        'is redis-server running there? (connectTimeoutMs sets the wait)',
      { cause },
    );
  }
}

/**
 * A Redis operator's props cannot work (a URL that is not redis:// or rediss://, a readings source with
 * no stream). Thrown by the constructor, so `dag.add` fails before anything runs, or by setup where only
 * the plan tells (partitions): not restartable, since a restart would meet the same props.
 */
export class RedisConfigError extends SluiceError {
  readonly restartable = false;
  constructor(operator: string, problem: string) {
    super('SLUICE_REDIS_CONFIG', `${operator}: ${problem}`);
  }
}

/** Refuses a URL ioredis could not use, naming `operator` and what was expected. */
export function checkRedisUrl(operator: string, url: unknown, example: string): void {
  // The scheme only: ioredis reads the rest leniently (an empty host is localhost).
  if (typeof url !== 'string' || !isRedisUrl(url))
    throw new RedisConfigError(
      operator,
      `url ${JSON.stringify(redactUrl(String(url ?? '')))} is not usable: expected ${example}`,
    );
  if (redisDatabaseOf(url.split('#')[0]!) === undefined)
    throw new RedisConfigError(
      operator,
      `url ${JSON.stringify(redactUrl(url))} names no database: after host:port comes a database number (${example})`,
    );
}

export { redactUrl };

/**
 * Resolves once `client` is ready. ioredis reconnects by itself (retryStrategy), and its connect() may be
 * called once only, so this starts it if it never was and then waits for 'ready', reporting the outage.
 */
export async function whenConnected(
  client: Redis,
  o: {
    operator: string;
    url: string;
    timeoutMs: number;
    onRetry: RedisRetryListener;
    /** The run's stop (OperatorContext.stopSignal): gives up waiting at once. */
    signal?: AbortSignal;
  },
): Promise<void> {
  if (client.status === 'ready') return;
  let last: unknown;
  let attempts = 0;
  // Set by the wait below (synchronously, before any 'error' event can arrive): ends it at once.
  let fail: (e: Error) => void = () => {};
  const onError = (e: Error) => {
    last = e;
    // A database the server does not have: ioredis still becomes ready, and confirmDatabase below says
    // so as a configuration error. Not an outage to announce as "retrying".
    if (/DB index is out of range/.test(e.message)) return;
    // A password the server refuses (or one it wants and did not get) will be refused on every retry.
    if (isRedisAuthError(e)) {
      client.disconnect();
      fail(
        new RedisConfigError(
          o.operator,
          `${redactUrl(o.url)} refused to authenticate (${e.message}): ${REDIS_AUTH_HINT}`,
        ),
      );
      return;
    }
    attempts++;
    o.onRetry({
      type: 'retrying',
      operator: o.operator,
      operation: 'connect',
      attempt: attempts,
      delayMs: 0,
      error: e,
    });
  };
  client.on('error', onError);
  try {
    if (client.status === 'wait') client.connect().catch(() => {}); // errors arrive as 'error' events too
    await new Promise<void>((resolve, reject) => {
      // Whichever ends the wait (ready, a failure, the timeout, the stop) stops listening for the others.
      const settle = (e?: Error) => {
        clearTimeout(timer);
        client.off('ready', ready);
        o.signal?.removeEventListener('abort', stopped);
        if (e === undefined) resolve();
        else reject(e);
      };
      fail = settle;
      const ready = () => settle();
      // Ctrl-C while Redis is down: no reason to wait out the connect timeout.
      const stopped = () => {
        client.disconnect();
        settle(
          new SluiceError('SLUICE_STOPPED', `${o.operator}: stopped while waiting for ${redactUrl(o.url)}`),
        );
      };
      const timer = setTimeout(() => {
        client.disconnect(); // or ioredis goes on reconnecting for an instance that never started
        settle(new RedisUnavailableError(o.operator, o.url, o.timeoutMs, last));
      }, o.timeoutMs);
      client.once('ready', ready);
      if (o.signal?.aborted) stopped();
      else o.signal?.addEventListener('abort', stopped, { once: true });
    });
    await confirmDatabase(client, redisDatabaseOf(o.url) ?? 0).catch((e: unknown) => {
      client.disconnect();
      throw new RedisConfigError(
        o.operator,
        `database ${redisDatabaseOf(o.url)} of ${redactUrl(o.url)} cannot be selected (${e instanceof Error ? e.message : String(e)}): the server has fewer databases`,
      );
    });
    if (attempts > 0)
      o.onRetry({ type: 'recovered', operator: o.operator, operation: 'connect', attempts: attempts + 1 });
  } finally {
    client.off('error', onError);
  }
}

/**
 * What a Redis operator reports while Redis is unreachable (`retrying`) or does not answer (`waiting`: a
 * call still pending after SLOW_CALL_MS, as when the server is paused or swamped; nothing is retried,
 * since the call may yet be applied), and once it is back (`recovered`).
 */
export type RedisRetryEvent =
  | { type: 'retrying'; operator: string; operation: string; attempt: number; delayMs: number; error: Error }
  | { type: 'waiting'; operator: string; operation: string; ms: number }
  | { type: 'recovered'; operator: string; operation: string; attempts: number };

/** A Redis call pending this long is reported (`waiting`), and again every as long. */
export const SLOW_CALL_MS = 5_000;

/** Where retry events go. Default: one stderr line when an outage starts and one when it ends. */
export type RedisRetryListener = (event: RedisRetryEvent) => void;

export interface Backoff {
  /** First delay. Default 50 ms. */
  baseMs?: number;
  /** Longest delay. Default 2 s. */
  maxMs?: number;
}

/** The operator metrics a Redis operator keeps (see Operator.metric): what a progress line or /metrics shows. */
export interface RedisHealthMetrics {
  /** Failed Redis calls that were retried (a counter). */
  retries: { inc(n?: number): void };
  /** 1 while a call is being retried (Redis unreachable), else 0 (a gauge, max across partitions). */
  down: { set(v: number): void };
}

/** A listener that updates the metrics and then passes the event on (default: the stderr lines). */
export function reportingTo(metrics: RedisHealthMetrics, next: RedisRetryListener = stderrRetryListener) {
  return (event: RedisRetryEvent): void => {
    if (event.type === 'retrying') metrics.retries.inc();
    metrics.down.set(event.type === 'recovered' ? 0 : 1);
    next(event);
  };
}

/** Exponential backoff as a pure function of the attempt (1, 2, …): base · 2^(attempt−1), capped. */
export function backoffMs(attempt: number, b: Backoff = {}): number {
  const base = b.baseMs ?? 50;
  const max = b.maxMs ?? 2_000;
  return Math.min(max, base * 2 ** Math.min(30, Math.max(0, attempt - 1)));
}

/**
 * What went wrong, in the user's words: with maxRetriesPerRequest 0 (ours: the operators retry whole
 * operations themselves), a command on a lost connection fails with ioredis's note about that setting.
 */
export function outageReason(error: Error): string {
  return /max retries per request/i.test(error.message) ? 'connection lost' : error.message;
}

/** The default RedisRetryListener: one stderr line when an outage starts, one when it ends. */
export function stderrRetryListener(event: RedisRetryEvent): void {
  if (event.type === 'waiting') {
    process.stderr.write(
      `sluice: ${event.operator}: Redis ${event.operation} not answered for ${Math.round(event.ms / 1000)} s (server paused, busy or out of reach?); still waiting\n`,
    );
  } else if (event.type === 'retrying' && event.attempt === 1) {
    process.stderr.write(
      `sluice: ${event.operator}: Redis ${event.operation} failed (${outageReason(event.error)}); retrying with backoff\n`,
    );
  } else if (event.type === 'recovered') {
    process.stderr.write(
      `sluice: ${event.operator}: Redis ${event.operation} succeeded${event.attempts > 1 ? ` after ${event.attempts} attempts` : ' after waiting'}\n`,
    );
  }
}

/**
 * Runs `op` until it succeeds, sleeping `backoffMs(attempt)` between failures, and reports each retry.
 * `stopped()` ends the loop (the instance was torn down): the last error is thrown. Only for operations
 * that are safe to repeat — the callers make them so (reads; a fenced, window-checked transaction).
 */
export async function withRetry<T>(
  op: () => Promise<T>,
  o: {
    operator: string;
    operation: string;
    backoff?: Backoff;
    onRetry?: RedisRetryListener;
    stopped?: () => boolean;
    /** Errors that must not be retried (a fenced-out instance). */
    fatal?: (e: unknown) => boolean;
    /** Give up (throw the last error) once this long has passed. Default: never. */
    giveUpAfterMs?: number;
    /** How long a call may be pending before it is reported (`waiting`). Default SLOW_CALL_MS. */
    slowAfterMs?: number;
  },
): Promise<T> {
  const report = o.onRetry ?? stderrRetryListener;
  const deadline = o.giveUpAfterMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + o.giveUpAfterMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const { value, slow } = await watchSlow(op, o.slowAfterMs ?? SLOW_CALL_MS, (ms) =>
        report({ type: 'waiting', operator: o.operator, operation: o.operation, ms }),
      );
      if (attempt > 1 || slow)
        report({ type: 'recovered', operator: o.operator, operation: o.operation, attempts: attempt });
      return value;
    } catch (e) {
      if (o.fatal?.(e) || o.stopped?.()) throw e;
      // A key of another type (a string where a stream or hash is kept) stays so: a retry would wait forever.
      if (e instanceof Error && e.message.startsWith('WRONGTYPE'))
        throw new RedisConfigError(o.operator, `${o.operation} failed: ${e.message}`);
      const delayMs = backoffMs(attempt, o.backoff);
      if (Date.now() + delayMs > deadline) throw e;
      const error = e instanceof Error ? e : new Error(String(e));
      report({ type: 'retrying', operator: o.operator, operation: o.operation, attempt, delayMs, error });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** `redis://host:port/db#stream` → the connection URL and the stream name (the fragment). */
export function splitStreamUrl(url: string): { url: string; stream: string | undefined } {
  const hash = url.indexOf('#');
  if (hash < 0) return { url, stream: undefined };
  let stream: string;
  try {
    stream = decodeURIComponent(url.slice(hash + 1));
  } catch {
    // A lone '%' is not an escape: the fragment is the stream's name as written.
    stream = url.slice(hash + 1);
  }
  return { url: url.slice(0, hash), stream: stream || undefined };
}

/**
 * A connection for an operator that does its own retrying: commands fail at once while disconnected (no
 * offline queue) and are never re-sent by ioredis after a reconnect (a re-sent EXEC would run outside the
 * WATCH that guarded it). ioredis keeps reconnecting in the background.
 */
export function operatorConnection(url: string, name: string, extra: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectionName: name.replace(/[^\w.:#-]/g, '_'),
    retryStrategy: (times) => backoffMs(times, { baseMs: 50, maxMs: 1_000 }),
    // disconnect() ends the socket and waits this long for 'close' before destroying it; a socket whose
    // connect was refused never closes again, so ioredis' default (2 s, a timer that holds the event loop)
    // kept a process stopped while Redis was down alive for seconds after its last word.
    disconnectTimeout: 200,
    ...extra,
  });
  // Connection errors are retried by the operator's own loop; without a listener ioredis logs each one.
  client.on('error', () => {});
  return client;
}
