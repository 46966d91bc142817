import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { repoRoot } from '../cli/cli-process.ts';
import { clusterFixture, referenceRun, until, windowFiles } from './cluster-kit.ts';

/*
 * A failure while the containers are being deployed restarts them by the same path as the loss of the
 * source's node: every container again, each on its node, in the worker it was being deployed in (its
 * actors ended, the worker kept: `recycle`), not in new workers. test/containers/apps/sums.ts on 3
 * containers over 2 nodes, placed 0 → n1, 1 → n2, 2 → n1 (the Sums partitions in containers 2 and 0,
 * both on n1): the first Sums built in a container throws in initialState (SUMS_INIT_FAIL, once), so
 * n1's first deploy fails while n2's goes through.
 */
const APP = join(repoRoot, 'test', 'containers', 'apps', 'sums.ts');

describe('a failure while deploying', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-deploy-failure-');

  it('restarts every container in the workers it was deploying to, output unchanged', async () => {
    const marker = await mkdtemp(join(tmpdir(), 'sluice-init-fail-'));
    const env = { SUMS_INIT_FAIL: join(marker, 'failed') };
    const { dir, out, cluster: c } = await fixture.start(['n1'], { env });
    onTestFinished(() => rm(marker, { recursive: true, force: true }));
    await c.startNode('n2');
    await until(async () => (await c.client.status()).nodes.length === 2);
    const started = await c.client.launch(APP, { virtualTime: true, containers: 3 });
    expect(started.placement).toEqual({ 0: 'n1', 1: 'n2', 2: 'n1' });
    await until(async () => {
      const app = (await c.client.status()).apps[0]!;
      return app.restarts > 0 && app.state === 'running' && app.window > 10;
    });
    expect(c.supervisor.stderr).toMatch(/sums: container [02] failed .*node n1 could not deploy/);
    // Each node's last deploy: its own containers again, every one in the worker it had.
    const lastDeploy = (node: string) =>
      [...c.nodes.get(node)!.stderr.matchAll(/deployed sums epoch \d+: (.*)/g)].map((m) => m[1]);
    expect(lastDeploy('n1').at(-1)).toMatch(/^containers 0,2 in 2 reused workers, 0 spares, 0 new/);
    expect(lastDeploy('n2').at(-1)).toMatch(/^containers 1 in 1 reused workers, 0 spares, 0 new/);
    const stopped = await c.client.stop('sums');
    expect(stopped.state).toBe('stopped');
    await referenceRun(join(dir, 'ref'), stopped.window, APP);
    const files = await windowFiles(out);
    expect(files.size).toBe(stopped.window);
    expect(files).toEqual(await windowFiles(join(dir, 'ref')));
  });
});
