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
 * nodes keep their containers (grace) and keep processing: each window-log entry of the input is held
 * by its node and replicated to the other node (window-log-replicas.ts), snapshots and commits are held;
 * they rejoin the supervisor started again on the same store and address, which writes the held entries
 * and adopts the containers as they run — no relaunch, no replay — or, when a node died meanwhile,
 * relaunches from the committed checkpoint, replaying the windows cut while it was down as they were cut.
 * Either way the window files equal those of an undisturbed one-thread run (virtual time: windows cut by
 * input calls, not the clock).
 */

/** More than the windows in flight (pacing allows 4): windows that were cut while no supervisor ran. */
const WHILE_DOWN = 10;
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
    // Down for a while: the containers run on, windows still advance (paced by the nodes themselves).
    await untilWindowFiles(out, atKill + WHILE_DOWN);
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
    expect(whileDown - atKill).toBeGreaterThanOrEqual(WHILE_DOWN);
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

  it('relaunches when the input node died while the supervisor was down: windows cut meanwhile replay as cut, output unchanged', async () => {
    const { dir, out, cluster } = await setUp();
    // Container 0 holds the input (numbers) and the sink (files); its node writes the window logs.
    const writer = (await cluster.client.status()).apps[0]!.placement[0]!;
    const other = writer === 'n1' ? 'n2' : 'n1';
    cluster.supervisor.child.kill('SIGKILL');
    await cluster.supervisor.exited;
    const atKill = (await windowFiles(out)).size;
    // Windows written while no supervisor runs: their cuts are held by the writer and, replicated, by the other.
    await untilWindowFiles(out, atKill + WHILE_DOWN);
    const w = cluster.nodes.get(writer)!;
    w.child.kill('SIGKILL');
    await w.exited;
    cluster.nodes.delete(writer);
    const atNodeKill = (await windowFiles(out)).size;
    // The other node's streams from and to the writer broke while no supervisor had its containers: it
    // stopped them (and kept the replicas).
    await cluster.nodes.get(other)!.waitFor('stderr', /containers stopped/);
    await cluster.restartSupervisor();
    await cluster.supervisor.waitFor('stderr', /running-sums launched on/);
    expect(cluster.supervisor.stderr).not.toMatch(/adopted at epoch/);
    // The replicas went into the store before the relaunch: at least every window written while it was down.
    const sent = /(\d+) held window-log entries sent/.exec(cluster.nodes.get(other)!.stderr);
    const written = /(\d+) window-log entries held by the nodes written/.exec(cluster.supervisor.stderr);
    expect(Number(sent?.[1])).toBeGreaterThanOrEqual(atNodeKill - atKill);
    expect(Number(written?.[1])).toBe(Number(sent?.[1]));
    process.stderr.write(
      `window files ${atKill} at the supervisor's kill, ${atNodeKill} at the node's; ${sent?.[1]} held entries written\n`,
    );
    expect(deploys(cluster, other)).toBe(2);
    await untilRunningPast(cluster.client, atNodeKill + 5);
    expect(Object.values((await cluster.client.status()).apps[0]!.placement)).toEqual([other, other]);
    await stopAndCompare(cluster.client, dir, out);
  });
});
