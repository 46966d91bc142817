import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { SluiceError } from '../core/errors.ts';
import { StoreLockedError } from './errors.ts';

/**
 * The store-in-use lock of a RedisSnapshotStore: a key set with SET NX PX to a token of this open, renewed
 * every third of the lease. LevelDB's LOCK file is released by the OS when a process dies; a Redis lock
 * is not, so it is a lease: a killed holder's lock expires after `leaseMs`, and the next open can take it.
 *
 * Every write script checks the token first (LEASE_CHECK), so an instance whose lease expired (a paused
 * process, a partition) and was taken over writes nothing: its writes fail with StoreLeaseLostError.
 */
export const LEASE_LOST_REPLY = 'SLUICE_STORE_LEASE_LOST';

/** Lua prelude of every write: KEYS[1] is the lock key, ARGV[1] this open's token. */
export const LEASE_CHECK = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${LEASE_LOST_REPLY}') end\n`;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class StoreLeaseLostError extends SluiceError {
  constructor(
    readonly location: string,
    options?: { cause?: unknown },
  ) {
    super(
      'SLUICE_STORE_LEASE_LOST',
      `The lease on the snapshot store at ${location} expired and another run took it (this process was ` +
        'paused or cut off from Redis for longer than the lease); this run writes nothing more. Stop it.',
      options,
    );
  }
}

export function isLeaseLost(err: unknown): boolean {
  return err instanceof Error && err.message.includes(LEASE_LOST_REPLY);
}

export class RedisStoreLock {
  /** host:pid:random, so that `GET` on the lock names the holder when diagnosing a locked store. */
  readonly token = `${hostname()}:${process.pid}:${randomBytes(8).toString('hex')}`;
  #timer: NodeJS.Timeout | undefined;
  #renewals = 0;
  #lost = false;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly location: string,
    private readonly leaseMs: number,
    private readonly onWarning: (msg: string) => void,
  ) {}

  /** Lease renewals that succeeded (tests wait on it). */
  get renewals(): number {
    return this.#renewals;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Takes the lock, polling until `waitMs` has passed (0: one attempt); StoreLockedError if held. */
  async acquire(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const ok = await this.redis.set(this.key, this.token, 'PX', this.leaseMs, 'NX');
      if (ok === 'OK') break;
      if (Date.now() >= deadline) {
        const holder = await this.redis.get(this.key);
        throw new StoreLockedError(this.location, { cause: new Error(`held by ${holder}`) });
      }
      await new Promise((r) => setTimeout(r, Math.min(this.leaseMs / 4, 250)));
    }
    this.#timer = setInterval(() => void this.#renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    try {
      const renewed = Number(await this.redis.eval(RENEW, 1, this.key, this.token, String(this.leaseMs)));
      if (renewed === 1) {
        this.#renewals++;
        return;
      }
      this.#lost = true;
      this.stopRenewing();
      this.onWarning(new StoreLeaseLostError(this.location).message);
    } catch (err) {
      // Redis unreachable: the next renewal tries again; if the lease runs out meanwhile, writes fail.
      this.onWarning(`${this.location}: renewing the store lease failed (${(err as Error).message})`);
    }
  }

  stopRenewing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops renewing and deletes the lock if it is still ours. */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.redis.eval(RELEASE, 1, this.key, this.token);
  }
}
