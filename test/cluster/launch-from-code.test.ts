import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Application, InvalidOptionError, launch, type StatusEvent } from '../../src/index.ts';
import { clusterFixture, expectReferenceOutput, SUMS_APP } from './cluster-kit.ts';

/** launch(app, { cluster }) from code: what `sluice launch APP --cluster URL` does, behind a Run. */
describe('launch(app, { cluster, module })', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-cluster-launch-');

  it('runs the application on the cluster: status events, stats, done, and the output of a one-thread run', async () => {
    const { dir, out, cluster } = await fixture.start(['n1', 'n2']);
    const app = ((await import(pathToFileURL(SUMS_APP).href)) as { default: Application }).default;
    const run = await launch(app, {
      cluster: cluster.url,
      module: SUMS_APP,
      windows: 30,
      virtualTime: true,
      containers: 2,
    });
    const events: StatusEvent[] = [];
    run.on('status', (e) => events.push(e));
    await run.done;
    expect(run.application).toBe('running-sums');
    const stats = run.stats();
    expect(stats).toMatchObject({ window: 30, committed: 30, restarts: 0 });
    expect(stats.tuples).toBeGreaterThan(0);
    expect(stats.operators.map((o) => o.actorId).sort()).toEqual(run.plan.actors.map((a) => a.id).sort());
    expect(events[0]).toMatchObject({ type: 'started', application: 'running-sums' });
    const windows = events.flatMap((e) => (e.type === 'window' ? [e.window] : []));
    expect(windows).toEqual(Array.from({ length: windows.length }, (_, i) => 30 - windows.length + 1 + i));
    expect(windows.at(-1)).toBe(30);
    const counted = events.flatMap((e) => (e.type === 'window' ? [e.tuples] : []));
    expect(counted.at(-1)).toBe(stats.tuples);
    expect(events.at(-1)).toEqual({ type: 'stopped', window: 30, committed: 30, reason: 'windows' });
    await expectReferenceOutput(dir, out, 30);
  });

  it('needs module: the nodes load the application from their own disks', async () => {
    const app = ((await import(pathToFileURL(SUMS_APP).href)) as { default: Application }).default;
    await expect(launch(app, { cluster: 'ws://127.0.0.1:1' })).rejects.toThrow(InvalidOptionError);
    await expect(launch(app, { cluster: 'ws://127.0.0.1:1' })).rejects.toThrow(/needs module/);
  });
});
