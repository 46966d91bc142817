import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster-run/cluster-client.ts';
import { repoRoot, type SluiceProcess, startSluice } from '../cli/cli-process.ts';
import { freshDatabase, type TestDatabase } from '../setup/redis.ts';
import { SUMS_APP, stopAndCompare, untilRunningPast, untilWindowFiles } from './cluster-kit.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/*
 * High availability of the supervisor through a Redis lease (real redis-server): the active supervisor
 * holds it, a standby waits for it; the active one is SIGKILLed mid-run, its lease runs out, the standby
 * takes it, listens, and resumes the application from the shared store; the nodes (given both
 * addresses) rejoin it. The oracle: the window files equal an undisturbed one-thread run's.
 */
describe('a standby supervisor', { timeout: 120_000 }, () => {
  const procs: SluiceProcess[] = [];
  const clients: ClusterClient[] = [];
  let dir = '';
  let db: TestDatabase | undefined;

  afterEach(async () => {
    for (const c of clients) c.close();
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    if (process.env.SLUICE_CLUSTER_TEST_LOG) for (const p of procs) process.stderr.write(`---\n${p.stderr}`);
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes over when the active supervisor is killed: nodes rejoin it, the application resumes, output unchanged', async () => {
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'sluice-standby-'));
    const out = join(dir, 'out');
    const store = join(dir, 'store');
    const env = { SUMS_OUT: out };
    const [pa, pb] = [await freePort(), await freePort()];
    const [urlA, urlB] = [`ws://127.0.0.1:${pa}`, `ws://127.0.0.1:${pb}`];
    const supervisor = (port: number, standby: boolean) => {
      const args = ['supervisor', '--listen', `127.0.0.1:${port}`, '--store', store, '--lease', db!.url];
      const p = startSluice(standby ? [...args, '--standby'] : args, repoRoot, env);
      procs.push(p);
      return p;
    };
    const active = supervisor(pa, false);
    await active.waitFor('stdout', /listening/);
    const standby = supervisor(pb, true);
    await standby.waitFor('stderr', /standby: waiting for the lease/);
    for (const id of ['n1', 'n2']) {
      const node = startSluice(['node', '--join', `${urlA},${urlB}`, '--id', id], repoRoot, env);
      procs.push(node);
      await node.waitFor('stdout', /joined/);
    }
    const first = await ClusterClient.connect(urlA);
    clients.push(first);
    await first.launch(SUMS_APP, { virtualTime: true, containers: 2 });
    await untilWindowFiles(out, 20);

    active.child.kill('SIGKILL');
    await standby.waitFor('stdout', /listening/);
    const second = await ClusterClient.connect(urlB);
    clients.push(second);
    await untilRunningPast(second, 25);
    expect(standby.stderr).toMatch(/holding the lease .* at epoch 2/);
    await stopAndCompare(second, dir, out);
  });

  it('refuses to start a second active supervisor while the lease is held', async () => {
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'sluice-standby-'));
    const args = (port: number) => [
      'supervisor',
      '--listen',
      `127.0.0.1:${port}`,
      '--store',
      dir,
      '--lease',
      db!.url,
    ];
    const active = startSluice(args(0));
    procs.push(active);
    await active.waitFor('stdout', /listening/);
    const second = startSluice(args(0));
    procs.push(second);
    const exited = await second.exited;
    expect(exited.code).not.toBe(0);
    expect(exited.stderr).toMatch(/another supervisor holds the lease/);
  });
});
