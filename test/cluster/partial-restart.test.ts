import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Cluster,
  clusterFixture,
  SUMS_APP,
  stopAndCompare,
  until,
  untilRecovered,
  untilWindowFiles,
} from './cluster-kit.ts';

/*
 * A node lost restarts only its containers and those downstream of them. examples/running-sums on 3
 * containers over 2 nodes (2 slots each) is placed 0 → n1, 1 → n2, 2 → n1:
 *
 *   container 0: numbers, sums#2 ─┬─▶ container 1: sums#0, sums:unifier, files   (on n2)
 *   container 2: sums#1 ──────────┘
 *
 * Killing n2 loses container 1, which has nothing downstream: containers 0 and 2 keep running on n1,
 * their streams into container 1 re-link to its replacement (on n1) and replay since the commit.
 * Killing n1 instead loses the source's container, upstream of everything: all restart. An operator of
 * container 1 that fails (n2 alive) restarts that container alone, on n2 again (retired, then deployed).
 */
describe('a node lost mid-run restarts only its containers and those downstream', {
  timeout: 120_000,
}, () => {
  const fixture = clusterFixture('sluice-partial-');

  /** n1 then n2 (n2 with `n2Env`), the app launched on 3 containers: placed 0 → n1, 1 → n2, 2 → n1. */
  async function launchOnTwoNodes(n2Env: (dir: string) => NodeJS.ProcessEnv = () => ({})) {
    // One after the other: placement deals slots in join order.
    const { dir, out, cluster: c } = await fixture.start(['n1']);
    await c.startNode('n2', n2Env(dir));
    await until(async () => (await c.client.status()).nodes.length === 2);
    const started = await c.client.launch(SUMS_APP, { virtualTime: true, containers: 3 });
    expect(started.placement).toEqual({ 0: 'n1', 1: 'n2', 2: 'n1' });
    return { dir, out, c };
  }

  /** The restart events' actors, as the supervisor logs them. */
  const restarted = (c: Cluster) =>
    [...c.supervisor.stderr.matchAll(/running-sums: restarting (.*) from window \d+/g)].map((m) => m[1]);

  async function runAndKill(victim: string) {
    const { dir, out, c } = await launchOnTwoNodes();
    await untilWindowFiles(out, 20);
    c.nodes.get(victim)!.child.kill('SIGKILL');
    await untilRecovered(c.client, 5);
    const survivor = victim === 'n1' ? 'n2' : 'n1';
    // A stream the survivor lost blames a container on the node that died, and names that node.
    for (const m of c.supervisor.stderr.matchAll(/lost its stream \d+ to this container on node (\S+) /g))
      expect(m[1]).toBe(victim);
    expect((await c.client.status()).apps[0]!.placement).toEqual({ 0: survivor, 1: survivor, 2: survivor });
    await stopAndCompare(c.client, dir, out);
    return { restarts: restarted(c), c };
  }

  it('an operator failing in the downstream container: only that container restarts, on its node', async () => {
    // Only n2 injects the failure: of the running sums, it hosts sums#0 alone (container 1).
    const { dir, out, c } = await launchOnTwoNodes((d) => ({ SUMS_FAIL_ONCE: join(d, 'failed-once') }));
    await until(async () => {
      const app = (await c.client.status()).apps[0]!;
      return app.restarts > 0 && app.state === 'running' && app.window > 30;
    });
    expect((await c.client.status()).apps[0]!.placement).toEqual({ 0: 'n1', 1: 'n2', 2: 'n1' });
    await stopAndCompare(c.client, dir, out);
    expect(restarted(c)).toEqual(['sums#0, sums:unifier, files']);
    // The replaced container restored in the worker it had (retired, then redeployed in place).
    const deploys = [...c.nodes.get('n2')!.stderr.matchAll(/deployed running-sums epoch \d+: (.*)/g)];
    expect(deploys.at(-1)?.[1]).toMatch(/^containers 1 in 1 reused workers, 0 spares, 0 new/);
  });

  it('a node hosting only a downstream container: only that container restarts, output unchanged', async () => {
    const { restarts } = await runAndKill('n2');
    expect(restarts).toEqual(['sums#0, sums:unifier, files']);
  });

  it("a node hosting the source's container: every container restarts, the survivor's worker reused, output unchanged", async () => {
    const { restarts, c } = await runAndKill('n1');
    // (Its lost links may be reported before its connection closes here: a partial restart of the
    // containers they blame may come first, then every container.)
    expect(restarts.at(-1)).toBe('numbers, sums#0, sums#1, sums#2, sums:unifier, files');
    // The fast path: n2 kept container 1's worker (its actors restored in place at the commit) and
    // needed new ones only for n1's two containers.
    const deploys = [...c.nodes.get('n2')!.stderr.matchAll(/deployed running-sums epoch \d+: (.*)/g)];
    expect(deploys.at(-1)?.[1]).toMatch(/^containers 0,1,2 in 1 reused workers, \d spares, \d new/);
  });

  it('a node stopped with SIGTERM: its containers move once, to the other node, output unchanged', async () => {
    const { dir, out, c } = await launchOnTwoNodes();
    await untilWindowFiles(out, 20);
    const n2 = c.nodes.get('n2')!;
    n2.child.kill('SIGTERM');
    expect((await n2.exited).code).toBe(0);
    await untilRecovered(c.client, 5);
    const app = (await c.client.status()).apps[0]!;
    expect(app.placement).toEqual({ 0: 'n1', 1: 'n1', 2: 'n1' });
    // Leaving, it told the supervisor first: no restart put containers back on it, one restart in all.
    const leaving = n2.stderr.indexOf('SIGTERM: node n2 leaving');
    expect(leaving).toBeGreaterThan(-1);
    expect(n2.stderr.slice(leaving)).not.toMatch(/deployed running-sums/);
    expect(app.restarts).toBe(1);
    await stopAndCompare(c.client, dir, out);
  });
});
