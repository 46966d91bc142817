import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { SluiceError } from '../src/core/errors.ts';
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
  const lease = new RedisLease(redis, {
    key: options.key ?? 'sluice:supervisor',
    holder: `${hostname()}:${process.pid}`,
    ttlMs: options.ttlMs ?? 3000,
  });
  let epoch = await lease.tryAcquire();
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
