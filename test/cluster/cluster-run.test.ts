import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import { ClusterClient } from '../../src/cluster-run/cluster-client.ts';
import { sluice } from '../cli/cli-process.ts';
import {
  clusterFixture,
  expectReferenceOutput,
  SUMS_APP,
  stopAndCompare,
  until,
  untilRecovered,
  untilRunningPast,
  untilWindowFiles,
  windowFiles,
} from './cluster-kit.ts';

/*
 * A supervisor and two node processes on 127.0.0.1 run examples/running-sums (keyed partitions into an
 * exactly-once FileSink), its containers placed on both nodes so that streams cross between them. The
 * oracle: the window files equal those of an undisturbed one-thread run. Virtual time cuts windows by
 * input calls, so nothing depends on the clock; waits are on conditions, bounded by the test timeout.
 */
describe('a cluster of a supervisor and two node processes', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-cluster-');
  const setUp = (env: NodeJS.ProcessEnv = {}, nodes = ['n1', 'n2'], nodeArgs: string[] = []) =>
    fixture.start(nodes, { env, nodeArgs });

  it('runs an application across both nodes with the output of a one-thread run; status and kill', async () => {
    const { dir, out, cluster } = await setUp();
    const started = await cluster.client.launch(SUMS_APP, { windows: 40, virtualTime: true, containers: 2 });
    expect(new Set(Object.values(started.placement))).toEqual(new Set(['n1', 'n2']));
    const ended = await cluster.client.wait('running-sums');
    expect(ended).toMatchObject({ state: 'done', window: 40, committed: 40, restarts: 0 });
    await expectReferenceOutput(dir, out, 40);

    const status = await sluice(['status', '--cluster', cluster.url, '--json']);
    const parsed = JSON.parse(status.stdout) as {
      nodes: { nodeId: string }[];
      apps: { committed: number }[];
    };
    expect(parsed.nodes.map((n) => n.nodeId).sort()).toEqual(['n1', 'n2']);
    expect(parsed.apps[0]!.committed).toBe(40);

    // Launched again from the command line, it continues from its committed window 40 on the same store;
    // then killed from the command line.
    const relaunched = await sluice(
      ['launch', SUMS_APP, '--cluster', cluster.url, '--detach', '--window-ms', '20'],
      undefined,
      {
        SUMS_OUT: out,
      },
    );
    expect(relaunched.stderr).toMatch(/launched running-sums: running/);
    await until(async () => (await windowFiles(out)).size > 45);
    const killed = await sluice(['kill', 'running-sums', '--cluster', cluster.url]);
    expect(killed.stdout).toMatch(/running-sums: killed/);

    // A module that is not an application is bad input, as for `sluice run`: exit 2.
    const notApp = join(dir, 'not-an-app.mjs');
    await writeFile(notApp, 'export default 42;\n');
    const refused = await sluice(['launch', notApp, '--cluster', cluster.url]);
    expect([refused.code, refused.stderr]).toEqual([
      2,
      expect.stringMatching(
        /does not export an application by default \(SLUICE_CLUSTER_NOT_AN_APPLICATION\)\n$/,
      ),
    ]);
  });

  it('restarts the containers of a node killed with SIGKILL on the other node, output unchanged', async () => {
    const { dir, out, cluster } = await setUp();
    await cluster.client.launch(SUMS_APP, { virtualTime: true, containers: 2 });
    await untilWindowFiles(out, 20);
    cluster.nodes.get('n1')!.child.kill('SIGKILL');
    // Recovered on n2 alone, and past where it was: then a graceful stop fixes the last window.
    await untilRecovered(cluster.client, 5);
    const placement = (await cluster.client.status()).apps[0]!.placement;
    expect(new Set(Object.values(placement))).toEqual(new Set(['n2']));
    await stopAndCompare(cluster.client, dir, out);
  });

  it('fences a node cut off long enough to be declared dead: its containers are stopped when it rejoins, output unchanged', async () => {
    const { dir, out, cluster } = await setUp();
    await cluster.client.launch(SUMS_APP, { virtualTime: true, containers: 2 });
    await untilWindowFiles(out, 20);
    const n1 = cluster.nodes.get('n1')!;
    // Frozen (as a long GC pause or a partition would): 3 missed heartbeats and it is declared dead.
    n1.child.kill('SIGSTOP');
    await until(async () => {
      const app = (await cluster.client.status()).apps[0]!;
      return (
        app.restarts > 0 && app.state === 'running' && Object.values(app.placement).every((n) => n === 'n2')
      );
    });
    n1.child.kill('SIGCONT');
    // It keeps its containers (grace, store calls held) and rejoins; they stop, stale, when it announces
    // them, unless it stopped them itself first (its own heartbeat check after the pause).
    await n1.waitFor('stderr', /lost the supervisor .*containers run on/);
    await n1.waitFor('stderr', /running-sums: .*containers stopped/);
    await until(async () => (await cluster.client.status()).nodes.some((n) => n.nodeId === 'n1'));
    const status = await cluster.client.status();
    expect(status.nodes.find((n) => n.nodeId === 'n1')!.hosting).toEqual([]);
    await stopAndCompare(cluster.client, dir, out);
  });

  it('relaunches an application after the supervisor is killed and restarted on its store (nodes without grace): output unchanged', async () => {
    const { dir, out, cluster } = await setUp({}, ['n1', 'n2'], ['--supervisor-grace', '0']);
    await cluster.client.launch(SUMS_APP, { virtualTime: true, containers: 2 });
    await untilWindowFiles(out, 20);
    await cluster.restartSupervisor();
    // The nodes lose it (no grace: their containers stop), rejoin the new one, which launches the app
    // again from its commit (with a grace they keep them and it adopts them: supervisor-restart.test.ts).
    await untilRunningPast(cluster.client, 25);
    await cluster.supervisor.waitFor('stderr', /resuming .*running-sums/);
    expect(cluster.supervisor.stderr).toMatch(/running-sums launched on/);
    await stopAndCompare(cluster.client, dir, out);
  });

  it('never admits a node with the wrong secret', async () => {
    const { dir, cluster } = await setUp({ SLUICE_SECRET: 'the right cluster secret, 32 bytes' }, ['n1']);
    const { startSluice } = await import('../cli/cli-process.ts');
    const intruder = startSluice(['node', '--join', cluster.url, '--id', 'intruder'], undefined, {
      SLUICE_SECRET: 'a wrong secret of sufficient size',
    });
    const exited = await intruder.exited;
    expect(exited.code).not.toBe(0);
    expect(exited.stderr).toMatch(/SLUICE_CLUSTER_AUTH_FAILED|refused/);
    await cluster.supervisor.waitFor('stderr', /refused .*SLUICE_CLUSTER_AUTH_FAILED/);
    const status = await cluster.client.status();
    expect(status.nodes.map((n) => n.nodeId)).toEqual(['n1']);
    // And a launcher without the secret is refused too.
    await expect(ClusterClient.connect(cluster.url)).rejects.toThrow(/SLUICE_CLUSTER_AUTH_FAILED|refused/);
    // A node's data port (where other nodes dial in for streams) refuses the wrong secret, and closes an
    // authenticated peer whose first frame does not name a stream; the node stays in the cluster.
    const dataUrl = status.nodes[0]!.dataUrl!;
    await expect(
      joinCluster(dataUrl, { secret: Buffer.from('a wrong secret of sufficient size') }),
    ).rejects.toMatchObject({ code: 'SLUICE_CLUSTER_AUTH_FAILED' });
    const peer = await joinCluster(dataUrl, { secret: Buffer.from('the right cluster secret, 32 bytes') });
    peer.send({ t: 'credit', seq: 1 });
    expect(await peer.closed).toBe(1000);
    expect((await cluster.client.status()).nodes.map((n) => n.nodeId)).toEqual(['n1']);
    expect(await readdir(dir)).not.toContain('out');
  });
});
