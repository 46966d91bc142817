import type { Redis } from 'ioredis';
import { SluiceError } from '../src/core/errors.ts';

/**
 * The supervisor's high availability: a lease in Redis, not a consensus algorithm of our own. The active
 * supervisor holds `key` (SET NX PX semantics) and renews it every third of `ttlMs`; a standby polls and
 * takes it once it expires. Each acquisition raises an epoch (INCR on `key:epoch`, never reset), so
 * epochs are totally ordered: the holder fences what it writes with its epoch, and a supervisor that
 * comes back after losing the lease (paused, partitioned) finds a higher epoch and stops.
 *
 *   standby --tryAcquire() ok--> active (epoch e) --renew() fails / lease expired--> lost (stop: fenced)
 *      ^  |                          |
 *      +--+ (held by another)        +--release()--> standby
 *
 * The value is `holder#epoch`: renewal and release compare the whole value, so a holder whose lease
 * expired and was retaken (even by a process with the same holder name) can neither renew nor delete it.
 */

// KEYS: lease, epoch  ARGV: holder, ttlMs. Atomic: the epoch is raised only by the one that takes the lease.
const ACQUIRE = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '#' .. epoch, 'PX', ARGV[2])
return epoch`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class LeaseLostError extends SluiceError {
  constructor(
    readonly key: string,
    readonly epoch: number,
  ) {
    super(
      'SLUICE_LEASE_LOST',
      `The supervisor lease ${key} (epoch ${epoch}) expired or was taken by another supervisor: this one ` +
        'is fenced and must stop. Its standby (or a restart of it) takes over with a higher epoch.',
    );
  }
}

export type LeaseOptions = {
  /** The lease key; the epoch counter is `${key}:epoch`. */
  key: string;
  /** Names this supervisor in the lease value (host:pid, say). */
  holder: string;
  /** How long the lease lasts without renewal: the failover time is at most about this. */
  ttlMs: number;
};

export class RedisLease {
  readonly key: string;
  readonly epochKey: string;
  readonly #holder: string;
  readonly #ttlMs: number;
  #epoch: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #renewals = 0;

  constructor(
    private readonly redis: Redis,
    options: LeaseOptions,
  ) {
    if (!(options.ttlMs >= 3)) throw new RangeError(`lease ttlMs must be ≥ 3, got ${options.ttlMs}`);
    if (options.holder.includes('#')) throw new RangeError('lease holder must not contain "#"');
    this.key = options.key;
    this.epochKey = `${options.key}:epoch`;
    this.#holder = options.holder;
    this.#ttlMs = options.ttlMs;
  }

  /** The epoch of the lease this instance holds (or last held); undefined before the first acquisition. */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  get renewals(): number {
    return this.#renewals;
  }

  get #value(): string {
    return `${this.#holder}#${this.#epoch}`;
  }

  /** Takes the lease if nobody holds it: the new epoch, or undefined if it is held. */
  async tryAcquire(): Promise<number | undefined> {
    const epoch = Number(
      await this.redis.eval(ACQUIRE, 2, this.key, this.epochKey, this.#holder, this.#ttlMs),
    );
    if (epoch === 0) return undefined;
    this.#epoch = epoch;
    return epoch;
  }

  /** Standby: polls until the lease is free and takes it; resolves with the new epoch. */
  async waitForLease(options: { pollMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    const pollMs = options.pollMs ?? Math.max(1, Math.floor(this.#ttlMs / 3));
    for (;;) {
      options.signal?.throwIfAborted();
      const epoch = await this.tryAcquire();
      if (epoch !== undefined) return epoch;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Extends the lease; LeaseLostError if it is no longer this holder's at this epoch. */
  async renew(): Promise<void> {
    if (this.#epoch === undefined) throw new LeaseLostError(this.key, 0);
    const ok = Number(await this.redis.eval(RENEW, 1, this.key, this.#value, this.#ttlMs));
    if (ok !== 1) {
      this.stopRenewing();
      throw new LeaseLostError(this.key, this.#epoch);
    }
    this.#renewals++;
  }

  /**
   * Renews every third of the TTL in the background; `onLost` once when a renewal finds the lease gone
   * (the holder must then stop). A Redis error is retried at the next tick: the lease may still expire.
   */
  keepRenewing(onLost: (err: LeaseLostError) => void, onError: (err: unknown) => void = () => {}): void {
    this.stopRenewing();
    this.#timer = setInterval(
      () => {
        this.renew().catch((err: unknown) => (err instanceof LeaseLostError ? onLost(err) : onError(err)));
      },
      Math.floor(this.#ttlMs / 3),
    );
    this.#timer.unref();
  }

  stopRenewing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Whether `epoch` is still the latest (a fencing check before acting on the lease). */
  async isCurrent(epoch: number): Promise<boolean> {
    return Number(await this.redis.get(this.epochKey)) === epoch;
  }

  /** Gives the lease up (a clean shutdown: the standby takes over at once); no-op if it is not ours. */
  async release(): Promise<void> {
    this.stopRenewing();
    if (this.#epoch !== undefined) await this.redis.eval(RELEASE, 1, this.key, this.#value);
  }
}
