import { describe, expect, it } from 'vitest';
import {
  type Cluster,
  clusterFixture,
  SUMS_APP,
  stopAndCompare,
  until,
  untilRunningPast,
  untilWindowFiles,
  windowFiles,
} from './cluster-kit.ts';

/*
 * The supervisor SIGKILLed mid-run while two node processes run examples/running-sums across them. The
 * nodes keep their containers (grace), hold their store calls, and rejoin the supervisor started again
 * on the same store and address, which adopts the containers as they run — no relaunch, no replay —
 * or, when a node died meanwhile, relaunches from the committed checkpoint. Either way the window files
 * equal those of an undisturbed one-thread run (virtual time: windows cut by input calls, not the clock).
 */
describe('a supervisor killed and restarted while nodes run an application', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-supervisor-restart-');

  async function setUp(nodeArgs: string[] = []) {
    const started = await fixture.start(['n1', 'n2'], { nodeArgs });
    await started.cluster.client.launch(SUMS_APP, { virtualTime: true, containers: 2 });
    await untilWindowFiles(started.out, 20);
    return started;
  }

  const deploys = (c: Cluster, node: string) =>
    c.nodes.get(node)!.stderr.match(/deployed running-sums epoch/g)?.length ?? 0;

  it('adopts the containers the nodes kept running: same worker threads, same epoch, output unchanged', async () => {
    const { dir, out, cluster } = await setUp();
    expect([deploys(cluster, 'n1'), deploys(cluster, 'n2')]).toEqual([1, 1]);
    const killedAt = performance.now();
    cluster.supervisor.child.kill('SIGKILL');
    await cluster.supervisor.exited;
    await cluster.nodes.get('n1')!.waitFor('stderr', /lost the supervisor .*containers run on/);
    const atKill = (await windowFiles(out)).size;
    // Down for a while: the containers run on (what was in flight drains; inputs wait for their logs).
    await new Promise((r) => setTimeout(r, 1500));
    const whileDown = (await windowFiles(out)).size;
    const restartedAt = performance.now();
    await cluster.restartSupervisor();
    await cluster.supervisor.waitFor('stderr', /running-sums adopted at epoch/);
    const adoptedAt = performance.now();
    await until(async () => (await windowFiles(out)).size > whileDown + 5);
    const resumedAt = performance.now();
    process.stderr.write(
      `supervisor down ${Math.round(restartedAt - killedAt)} ms: window files ${atKill} at the kill, ${whileDown} before the restart; ` +
        `adopted ${Math.round(adoptedAt - restartedAt)} ms after the restart began, 5 more windows ${Math.round(resumedAt - adoptedAt)} ms later\n`,
    );
    // Adopted, not relaunched: no node deployed anything again, both took their containers back.
    expect([deploys(cluster, 'n1'), deploys(cluster, 'n2')]).toEqual([1, 1]);
    for (const n of ['n1', 'n2']) expect(cluster.nodes.get(n)!.stderr).toMatch(/adopted running-sums epoch/);
    expect(cluster.supervisor.stderr).not.toMatch(/not adopted/);
    const app = (await cluster.client.status()).apps[0]!;
    expect(app).toMatchObject({ state: 'running', restarts: 0 });
    expect(new Set(Object.values(app.placement))).toEqual(new Set(['n1', 'n2']));
    await stopAndCompare(cluster.client, dir, out);
  });

  it('relaunches from the commit when the supervisor stayed down past the grace, output unchanged', async () => {
    const { dir, out, cluster } = await setUp(['--supervisor-grace', '1000']);
    cluster.supervisor.child.kill('SIGKILL');
    await cluster.supervisor.exited;
    for (const n of ['n1', 'n2'])
      await cluster.nodes.get(n)!.waitFor('stderr', /not adopted within 1000 ms .*containers stopped/);
    await cluster.restartSupervisor();
    await cluster.supervisor.waitFor('stderr', /running-sums launched on/);
    expect(cluster.supervisor.stderr).toMatch(/not adopted \(no node announced container 0,1/);
    // Deployed afresh (each node had deployed once before).
    expect(deploys(cluster, 'n1') + deploys(cluster, 'n2')).toBeGreaterThan(2);
    await untilRunningPast(cluster.client, 25);
    await stopAndCompare(cluster.client, dir, out);
  });

  it('relaunches from the commit when a node died while the supervisor was down, output unchanged', async () => {
    const { dir, out, cluster } = await setUp();
    cluster.supervisor.child.kill('SIGKILL');
    await cluster.supervisor.exited;
    const n1 = cluster.nodes.get('n1')!;
    n1.child.kill('SIGKILL');
    await n1.exited;
    cluster.nodes.delete('n1');
    // n2's streams from and to n1 broke while no supervisor had its containers: it stopped them.
    await cluster.nodes.get('n2')!.waitFor('stderr', /containers stopped/);
    await cluster.restartSupervisor();
    await cluster.supervisor.waitFor('stderr', /running-sums launched on/);
    expect(cluster.supervisor.stderr).not.toMatch(/adopted at epoch/);
    expect(deploys(cluster, 'n2')).toBe(2);
    await untilRunningPast(cluster.client, 25);
    expect(Object.values((await cluster.client.status()).apps[0]!.placement)).toEqual(['n2', 'n2']);
    await stopAndCompare(cluster.client, dir, out);
  });
});
