import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { type Application, assignContainers, planPhysical } from '../../src/index.ts';
import { clusterFixture, referenceRun, until, windowFiles } from './cluster-kit.ts';

/*
 * An operator with ~5 MiB of state (apps/big-state.ts) on a supervisor and two node processes: its
 * snapshots are five times the 1 MiB frame limit, so each checkpoint crosses to the supervisor's store as
 * parts, and after the node hosting it is killed, its restore on the other node comes back as parts. The
 * oracle: the window files (each window ends with the CRC-32 of the whole state) equal those of an
 * undisturbed one-thread run.
 */
const BIG_APP = join(import.meta.dirname, 'apps', 'big-state.ts');

const fixture = clusterFixture('sluice-big-');

const loadApp = async () => ((await import(pathToFileURL(BIG_APP).href)) as { default: Application }).default;

it('checkpoints a 5 MiB operator state over the cluster and restores it on another node after a SIGKILL', {
  timeout: 180_000,
}, async () => {
  const { dir, out, cluster: started } = await fixture.start(['n1', 'n2'], { outVar: 'BIG_OUT' });
  const { placement } = await started.client.launch(BIG_APP, { virtualTime: true, containers: 2 });
  // The node of the ledger's container (the same placement the supervisor computes): the ledger and the
  // sink restart on the other node (a partial restart), the 5 MiB state restored from parts, the source
  // kept and replaying into them. (This stalled once: a replaced container restored from a snapshot newer
  // than the application's done window left the kept source waiting for a pacing notice; see
  // test/containers/stale-snapshot-restart.test.ts.)
  const plan = assignContainers(planPhysical((await loadApp()).dag()), 2);
  const ledger = plan.actors.find((a) => a.id.startsWith('ledger'))!;
  const host = placement[ledger.container!]!;
  const other = host === 'n1' ? 'n2' : 'n1';
  // Past the first committed checkpoint (every 3 windows): the recovery restores 5 MiB snapshots.
  await until(async () => ((await started.client.status()).apps[0]?.committed ?? 0) >= 3);
  // Restarts before the kill are possible on a loaded machine (a container missing its heartbeats).
  const before = (await started.client.status()).apps[0]!.restarts;
  started.nodes.get(host)!.child.kill('SIGKILL');
  let recoveredAt = -1;
  await until(async () => {
    const app = (await started.client.status()).apps[0]!;
    if (recoveredAt < 0 && app.restarts > before && app.state === 'running') recoveredAt = app.window;
    return recoveredAt >= 0 && app.state === 'running' && app.window > recoveredAt + 3;
  });
  expect(new Set(Object.values((await started.client.status()).apps[0]!.placement))).toEqual(
    new Set([other]),
  );
  const stopped = await started.client.stop('big-state');
  expect(stopped).toMatchObject({ state: 'stopped', error: null });
  // A stop proposed while a restarted container replays may end below windows the sink applied in an
  // earlier life (they stay, fenced): every window up to the last written must be the reference's.
  const files = await windowFiles(out);
  const windows = Math.max(files.size, stopped.window);
  expect(files.size).toBe(windows);
  await referenceRun(join(dir, 'ref'), windows, BIG_APP, 'BIG_OUT');
  expect(files).toEqual(await windowFiles(join(dir, 'ref')));
  // Nothing was refused on the way: the parts were all well-formed.
  expect(started.supervisor.stderr).not.toMatch(/SLUICE_CLUSTER_BAD_PART|FRAME_TOO_LARGE/);
});
