import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { type Cluster, referenceRun, SUMS_APP, startCluster, until, windowFiles } from './cluster-kit.ts';

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
  let cluster: Cluster | undefined;
  let dir = '';

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function runAndKill(victim: string) {
    dir = await mkdtemp(join(tmpdir(), 'sluice-partial-'));
    const out = join(dir, 'out');
    // One after the other: placement deals slots in join order.
    const c = await startCluster(join(dir, 'store'), ['n1'], { SUMS_OUT: out });
    cluster = c;
    await c.startNode('n2');
    await until(async () => (await c.client.status()).nodes.length === 2);
    onTestFailed(() => c.dump());
    const started = await c.client.launch(SUMS_APP, { virtualTime: true, containers: 3 });
    expect(started.placement).toEqual({ 0: 'n1', 1: 'n2', 2: 'n1' });
    await until(async () => (await windowFiles(out)).size >= 20);
    c.nodes.get(victim)!.child.kill('SIGKILL');
    let atRestart = 0;
    await until(async () => {
      const app = (await c.client.status()).apps[0]!;
      if (atRestart === 0 && app.restarts > 0) atRestart = app.window;
      return app.restarts > 0 && app.state === 'running' && app.window > atRestart + 5;
    });
    const survivor = victim === 'n1' ? 'n2' : 'n1';
    expect((await c.client.status()).apps[0]!.placement).toEqual({ 0: survivor, 1: survivor, 2: survivor });
    const stopped = await c.client.stop('running-sums');
    expect(stopped.state).toBe('stopped');
    await referenceRun(join(dir, 'ref'), stopped.window);
    const files = await windowFiles(out);
    expect(files.size).toBe(stopped.window);
    expect(files).toEqual(await windowFiles(join(dir, 'ref')));
    // The restart events' actors, as the supervisor logs them.
    return [...c.supervisor.stderr.matchAll(/running-sums: restarting (.*) from window \d+/g)].map(
      (m) => m[1],
    );
  }

  it('an operator failing in the downstream container: only that container restarts, on its node', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-partial-'));
    const out = join(dir, 'out');
    const marker = join(dir, 'failed-once');
    const c = await startCluster(join(dir, 'store'), ['n1'], { SUMS_OUT: out });
    cluster = c;
    onTestFailed(() => c.dump());
    // Only n2 injects the failure: of the running sums, it hosts sums#0 alone (container 1).
    await c.startNode('n2', { SUMS_FAIL_ONCE: marker });
    await until(async () => (await c.client.status()).nodes.length === 2);
    const started = await c.client.launch(SUMS_APP, { virtualTime: true, containers: 3 });
    expect(started.placement).toEqual({ 0: 'n1', 1: 'n2', 2: 'n1' });
    await until(async () => {
      const app = (await c.client.status()).apps[0]!;
      return app.restarts > 0 && app.state === 'running' && app.window > 30;
    });
    expect((await c.client.status()).apps[0]!.placement).toEqual({ 0: 'n1', 1: 'n2', 2: 'n1' });
    const stopped = await c.client.stop('running-sums');
    expect(stopped.state).toBe('stopped');
    await referenceRun(join(dir, 'ref'), stopped.window);
    const files = await windowFiles(out);
    expect(files.size).toBe(stopped.window);
    expect(files).toEqual(await windowFiles(join(dir, 'ref')));
    const restarts = [...c.supervisor.stderr.matchAll(/running-sums: restarting (.*) from window \d+/g)];
    expect(restarts.map((m) => m[1])).toEqual(['sums#0, sums:unifier, files']);
  });

  it('a node hosting only a downstream container: only that container restarts, output unchanged', async () => {
    const restarts = await runAndKill('n2');
    expect(restarts).toEqual(['sums#0, sums:unifier, files']);
  });

  it("a node hosting the source's container: every container restarts, output unchanged", async () => {
    const restarts = await runAndKill('n1');
    // (Its lost links may be reported before its connection closes here: a partial restart of the
    // containers they blame may come first, then every container.)
    expect(restarts.at(-1)).toBe('numbers, sums#0, sums#1, sums#2, sums:unifier, files');
  });
});
