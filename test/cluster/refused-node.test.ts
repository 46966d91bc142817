import { describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import { repoRoot, startSluice } from '../cli/cli-process.ts';
import { clusterFixture, until } from './cluster-kit.ts';

/** A node the supervisor refuses for what it is says why, and does not knock again four times a second. */
describe('a node refused by the supervisor', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-refused-node-');

  it('logs the reason (an id already in the cluster) and backs off between attempts', async () => {
    const { cluster: c } = await fixture.start(['n1']);
    const twin = startSluice(['node', '--join', c.url, '--id', 'n1', '--containers', '1'], repoRoot);
    try {
      await until(() =>
        /refused by the supervisor \(4013\): node id n1 is already in the cluster/.test(twin.stderr),
      );
      const started = Date.now();
      await new Promise((r) => setTimeout(r, 4000));
      const refusals = twin.stderr.match(/refused by the supervisor/g)?.length ?? 0;
      // 2 s, then 4 s: at most three refusals in the first ~4 s (it was ~16 at 200 ms apart).
      expect(refusals).toBeLessThanOrEqual(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
      twin.child.kill('SIGTERM');
      const exited = await twin.exited;
      expect(twin.stderr).not.toMatch(/Cannot read properties/);
      expect(exited.code).toBe(0);
    } finally {
      if (twin.child.exitCode === null) twin.child.kill('SIGKILL');
    }
  });

  it("logs a peer refused on a node's data port (a wrong secret)", async () => {
    const { cluster: c } = await fixture.start(['n1']);
    const dataUrl = (await c.client.status()).nodes[0]!.dataUrl!;
    await expect(
      joinCluster(dataUrl, { secret: Buffer.from('not-the-secret-of-this-cluster') }),
    ).rejects.toThrow();
    await c.nodes.get('n1')!.waitFor('stderr', /data port refused \S+: SLUICE_CLUSTER_AUTH_FAILED/);
  });
});
