import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clusterFixture, SUMS_APP, until, untilWindowFiles } from './cluster-kit.ts';

/**
 * A restarted supervisor resumes what the previous one ran once a node joins. Until then the
 * application is listed as resuming, a kill means it is not resumed at all, and a launch of it says why
 * it cannot start (it was "no application" for status and kill, and a store lock for launch).
 */
describe('between a supervisor restart and the resume', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-resume-gap-');

  /** running-sums launched on n1, a few windows done, then n1 SIGKILLed: no node is left. */
  async function launchThenLoseTheNode() {
    const { out, cluster: c } = await fixture.start(['n1']);
    await c.client.launch(SUMS_APP, { virtualTime: true, containers: 2 });
    await untilWindowFiles(out, 5);
    const n1 = c.nodes.get('n1')!;
    n1.child.kill('SIGKILL');
    await n1.exited;
    return c;
  }

  it('lists the application as resuming, refuses a second launch, and a kill keeps it from resuming', async () => {
    const c = await launchThenLoseTheNode();
    await c.restartSupervisor();
    expect((await c.client.status()).apps).toEqual([
      expect.objectContaining({ name: 'running-sums', state: 'resuming' }),
    ]);
    await expect(c.client.launch(SUMS_APP, { virtualTime: true })).rejects.toThrow(
      /running-sums ran under the previous supervisor and is being resumed/,
    );
    expect(await c.client.kill('running-sums')).toMatchObject({ name: 'running-sums', state: 'killed' });
    await c.startNode('n1');
    await until(async () => (await c.client.status()).nodes.length === 1);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await c.client.status()).apps).toEqual([]);
    expect(c.supervisor.stderr).toMatch(/running-sums killed before it was resumed: not resumed/);
    expect(c.supervisor.stderr).not.toMatch(/resuming .* from its store/);
  });

  it('resumes the application as its folder is now: a file added beside it since the launch changes nothing', async () => {
    const c = await launchThenLoseTheNode();
    // The build hash covers the sources beside the module: the nodes now hash another build.
    const added = join(dirname(SUMS_APP), `added-${process.pid}.json`);
    onTestFinished(() => rm(added, { force: true }));
    await writeFile(added, '{}\n');
    await c.restartSupervisor();
    await c.startNode('n1');
    await until(async () => {
      const app = (await c.client.status()).apps[0];
      return app?.state === 'running' && app.window > 10;
    });
    expect(c.supervisor.stderr).not.toMatch(/refused for this application/);
  });
});
