import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ClusterRun, type NodeDirectory, type NodeSlot } from '../../src/cluster-run/cluster-run.ts';
import type { DeployRequest } from '../../src/cluster-run/node-protocol.ts';
import { type Application, assignContainers, MemorySnapshotStore, planPhysical } from '../../src/index.ts';
import { ApplicationSupervisor } from '../../supervisors/application-supervisor.ts';
import { ContainerSupervisor } from '../../supervisors/container-supervisor.ts';
import { repoRoot } from '../cli/cli-process.ts';

/*
 * A node whose connection closed is back before the restart looks at the live nodes (it rejoined within
 * the restart's backoff): it is eligible again, but the supervisor fences what it kept running, so none
 * of its containers can be kept. examples/running-sums on 3 containers over n1 (1 slot) and n2 (2 slots)
 * is placed 0 → n1, 1 → n2, 2 → n2; container 1 (sums#0 and the sink) has nothing downstream, container 2
 * (sums#1) is upstream of it only. When n2 is lost, both must be redeployed, not container 1 alone
 * (which would leave container 2 counted as running at its old epoch though n2 stopped it on rejoining).
 * The nodes are a fake directory: the run's calls are recorded, the deploys answered at once.
 */
const SUMS_APP = join(repoRoot, 'examples', 'running-sums', 'app.ts');
const NODES: NodeSlot[] = [
  { nodeId: 'n1', slots: 1, dataUrl: 'ws://127.0.0.1:1' },
  { nodeId: 'n2', slots: 2, dataUrl: 'ws://127.0.0.1:2' },
];

let run: ClusterRun | undefined;
afterEach(() => run?.kill());

it('replaces every container of a lost node, even when the node is back before the restart looks', async () => {
  const app = ((await import(SUMS_APP)) as { default: Application }).default;
  const plan = assignContainers(planPhysical(app.dag()), 3);
  const deploys: { node: string; containers: number[]; replace: boolean }[] = [];
  const directory: NodeDirectory = {
    eligible: async () => NODES,
    call: async (node, method, ...args) => {
      if (method !== 'deploy') return null;
      const req = args[0] as DeployRequest;
      deploys.push({ node, containers: req.hosted.map((h) => h.container), replace: req.replace === true });
      return req.config.restoreWindow;
    },
    note: () => {},
  };
  const store = new MemorySnapshotStore();
  await store.open();
  run = new ClusterRun(
    app,
    plan,
    store,
    { containers: 3, module: SUMS_APP, hash: 'h', streamingWindowMs: 20, checkpointWindowCount: 5 },
    new ApplicationSupervisor(undefined, { checkpointing: true, replayFrom: 'sources' }),
    new ContainerSupervisor(),
    directory,
  );
  void run.execute();
  await until(() => run!.state === 'running');
  expect(run.placement).toEqual({ 0: 'n1', 1: 'n2', 2: 'n2' });
  expect(deploys).toEqual([
    { node: 'n1', containers: [0], replace: false },
    { node: 'n2', containers: [1, 2], replace: false },
  ]);

  // n2's connection closed; it is eligible again at once (the fake directory always lists it).
  run.nodeLost('n2', 'connection closed 1006');
  await until(() => deploys.length > 2 && run!.state === 'running');
  expect(deploys.slice(2)).toEqual([{ node: 'n2', containers: [1, 2], replace: true }]);
});

async function until(f: () => boolean): Promise<void> {
  while (!f()) await new Promise((r) => setTimeout(r, 5));
}
