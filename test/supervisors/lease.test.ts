import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLostError, RedisLease } from '../../supervisors/lease.ts';
import { freshDatabase, type TestDatabase } from '../setup/redis.ts';

describe('RedisLease (supervisor high availability, real redis-server)', () => {
  const dbs: TestDatabase[] = [];
  const leases: RedisLease[] = [];
  const setup = async () => {
    const db = await freshDatabase();
    dbs.push(db);
    const lease = (holder: string, ttlMs = 300) => {
      const l = new RedisLease(db.client, { key: 'sluice:supervisor', holder, ttlMs });
      leases.push(l);
      return l;
    };
    return { db, lease };
  };

  afterEach(async () => {
    for (const l of leases.splice(0)) l.stopRenewing();
    for (const db of dbs.splice(0)) await db.close();
  });

  it('gives the lease to one supervisor at a time, at epoch 1', async () => {
    const { lease } = await setup();
    const active = lease('a');
    const standby = lease('b');
    expect(await active.tryAcquire()).toBe(1);
    expect(await standby.tryAcquire()).toBeUndefined();
    expect(await active.isCurrent(1)).toBe(true);
  });

  it('lets a standby take over after the active one stops renewing, raising the epoch; the stale holder can neither renew nor release', async () => {
    const { db, lease } = await setup();
    const active = lease('a');
    const standby = lease('b');
    expect(await active.tryAcquire()).toBe(1);
    // The active supervisor dies (no more renewals): the standby gets the lease once it expires.
    const epoch = await standby.waitForLease({ pollMs: 50 });
    expect(epoch).toBe(2);
    const error = await active.renew().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(error).toMatchObject({ code: 'SLUICE_LEASE_LOST', epoch: 1 });
    expect(await active.isCurrent(1)).toBe(false);
    await active.release();
    expect(await db.client.get('sluice:supervisor')).toBe('b#2');
    await standby.renew();
  });

  it('fences a holder that comes back under the same name: only the value with its epoch renews', async () => {
    const { lease } = await setup();
    const old = lease('host:1');
    expect(await old.tryAcquire()).toBe(1);
    const again = lease('host:1');
    expect(await again.waitForLease({ pollMs: 50 })).toBe(2);
    await expect(old.renew()).rejects.toBeInstanceOf(LeaseLostError);
    await again.renew();
  });

  it('keeps the lease while renewing: after several TTLs a standby still cannot take it', async () => {
    const { lease } = await setup();
    const active = lease('a', 900);
    const standby = lease('b');
    await active.tryAcquire();
    const lost: unknown[] = [];
    active.keepRenewing((e) => lost.push(e));
    while (active.renewals < 4) await new Promise((r) => setTimeout(r, 50));
    expect(await standby.tryAcquire()).toBeUndefined();
    expect(lost).toEqual([]);
  });

  it('reports a lease lost while renewing in the background, once, and stops renewing', async () => {
    const { db, lease } = await setup();
    const active = lease('a', 600);
    await active.tryAcquire();
    const lost: LeaseLostError[] = [];
    active.keepRenewing((e) => lost.push(e));
    await db.client.del('sluice:supervisor'); // as if it expired while the process was paused
    const standby = lease('b', 600);
    expect(await standby.tryAcquire()).toBe(2);
    while (lost.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(lost[0]).toMatchObject({ code: 'SLUICE_LEASE_LOST', epoch: 1 });
    // Renewal stopped: while the standby renews a few times, no second report arrives.
    standby.keepRenewing(() => {});
    while (standby.renewals < 3) await new Promise((r) => setTimeout(r, 20));
    expect(lost).toHaveLength(1);
    expect(await db.client.get('sluice:supervisor')).toBe('b#2');
  });

  it('raises the epoch on every acquisition, after a clean release too', async () => {
    const { lease } = await setup();
    const a = lease('a');
    expect(await a.tryAcquire()).toBe(1);
    await a.release();
    expect(await lease('b').tryAcquire()).toBe(2);
  });
});
