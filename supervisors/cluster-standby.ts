import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { SluiceError } from '../src/core/errors.ts';
import { redactUrl } from '../src/core/urls.ts';
import { type LeaseLostError, RedisLease } from './lease.ts';

export type SupervisorLeaseOptions = {
  /** redis://HOST:PORT[/DB] holding the lease. */
  url: string;
  /** Default `sluice:supervisor`. */
  key?: string;
  /** How long the lease lasts unrenewed: about the failover time. Default 3000 ms. */
  ttlMs?: number;
  /** Wait for the lease while another supervisor holds it (a standby); otherwise fail at once. */
  standby: boolean;
  log?: (line: string) => void;
};

/** Another supervisor holds the lease and this one is not a standby. */
export class LeaseHeldError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_LEASE_HELD', message);
  }
}

/** The lease's Redis did not answer when the supervisor started. */
export class LeaseUnreachableError extends SluiceError {
  constructor(url: string, cause: unknown) {
    const why =
      (cause as { code?: string })?.code ?? (cause instanceof Error ? cause.message : String(cause));
    super(
      'SLUICE_LEASE_UNREACHABLE',
      `cannot reach the lease's Redis at ${redactUrl(url)} (${why}): is redis-server running there?`,
      {
        cause,
      },
    );
  }
}

/**
 * The active supervisor's Redis lease (supervisors/lease.ts): taken before the supervisor listens; a
 * standby waits for it and takes over, with a higher epoch, when the active one stops renewing it (dead,
 * or cut off from Redis). A supervisor that finds its lease lost is fenced and must stop (`onLost`).
 */
export async function holdSupervisorLease(
  options: SupervisorLeaseOptions,
  onLost: (err: LeaseLostError) => void,
): Promise<{ epoch: number; release(): Promise<void> }> {
  const redis = new Redis(options.url, { maxRetriesPerRequest: 2 });
  // Without a listener ioredis prints every failed reconnect; renewal failures are logged below.
  let lastError: unknown;
  redis.on('error', (e) => {
    lastError = e;
  });
  const lease = new RedisLease(redis, {
    key: options.key ?? 'sluice:supervisor',
    holder: `${hostname()}:${process.pid}`,
    ttlMs: options.ttlMs ?? 3000,
  });
  let epoch: number | undefined;
  try {
    epoch = await lease.tryAcquire();
  } catch (e) {
    redis.disconnect();
    throw new LeaseUnreachableError(options.url, lastError ?? e);
  }
  if (epoch === undefined) {
    if (!options.standby) {
      redis.disconnect();
      throw new LeaseHeldError(
        `another supervisor holds the lease ${lease.key}: start this one with --standby to wait for it`,
      );
    }
    options.log?.(`standby: waiting for the lease ${lease.key}`);
    epoch = await lease.waitForLease();
  }
  options.log?.(`holding the lease ${lease.key} at epoch ${epoch}`);
  lease.keepRenewing(onLost, (e) => options.log?.(`lease renewal failed (retrying): ${String(e)}`));
  return {
    epoch,
    async release() {
      await lease.release().catch(() => {});
      redis.disconnect();
    },
  };
}
