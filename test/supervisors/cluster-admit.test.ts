import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import { ClusterSupervisor } from '../../supervisors/cluster-supervisor.ts';

const SECRET = Buffer.from('a test secret of enough bytes 0123456789');

/**
 * An authenticated connection to the supervisor must first say what it is (a node's join, a launcher's
 * call). Anything else is refused as docs/cluster.md says (SLUICE_CLUSTER_NOT_JOINED, 4014) and logged;
 * it used to be closed as if normally (1000), with no line in the supervisor's log.
 */
describe("the supervisor's first frame rule", () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('refuses another frame first with 4014 and logs why, and stays up for the next connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-admit-'));
    const log: string[] = [];
    const supervisor = await ClusterSupervisor.start({
      host: '127.0.0.1',
      port: 0,
      store: join(dir, 'store'),
      secret: SECRET,
      log: (line) => log.push(line),
    });
    stop = async () => {
      await supervisor.close();
      await rm(dir, { recursive: true, force: true });
    };

    const peer = await joinCluster(supervisor.url, { secret: SECRET });
    peer.send({ t: 'credit', seq: 1 });
    expect(await peer.closed).toBe(4014);
    expect(peer.closedReason).toBe('a credit frame before join or call');
    expect(log.join('\n')).toMatch(
      /refused \S+: SLUICE_CLUSTER_NOT_JOINED a credit frame before join or call/,
    );

    const next = await joinCluster(supervisor.url, { secret: SECRET });
    expect(next.state.state).toBe('open');
    next.close();
    await next.closed;
  });
});
