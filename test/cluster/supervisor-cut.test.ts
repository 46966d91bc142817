import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { type FaultCluster, startFaultCluster } from '../../property-tests/cluster-faults-kit.ts';
import { referenceRun, SUMS_APP, until, untilWindowFiles, windowFiles } from './cluster-kit.ts';

/*
 * Every node cut off from a supervisor that keeps running (each node joins through a TCP relay whose
 * connections are reset, again and again as the nodes rejoin). With no supervisor, the nodes keep
 * cutting windows, each window-log entry held by both; the supervisor, having lost every node, restarts
 * the application once they are back, and first writes the entries they held, so the windows cut
 * meanwhile replay as they were cut. The window files equal an undisturbed one-thread run's.
 */
describe('every node cut off from a running supervisor for a while', { timeout: 180_000 }, () => {
  let cluster: FaultCluster | undefined;
  let dir = '';
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the nodes keep cutting windows; the relaunch writes their held window-log entries first, output unchanged', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-supervisor-cut-'));
    const out = join(dir, 'out');
    const c = await startFaultCluster(join(dir, 'store'), ['n1', 'n2'], { SUMS_OUT: out });
    cluster = c;
    onTestFailed(() => {
      process.stderr.write(c.dump());
    });
    await c.withClient((cl) => cl.launch(SUMS_APP, { virtualTime: true, containers: 2 }));
    await untilWindowFiles(out, 10);
    const atCut = (await windowFiles(out)).size;
    let cutting = true;
    const cutter = (async () => {
      while (cutting) {
        await Promise.all(c.nodeIds.map((id) => c.dropConnection(id)));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // More than the 4 windows in flight: cut with no supervisor reachable.
    await untilWindowFiles(out, atCut + 10);
    cutting = false;
    await cutter;
    const afterCut = (await windowFiles(out)).size;
    const written = /(\d+) window-log entries held by the nodes written/;
    await until(() => written.test(c.dump()));
    const entries = Number(written.exec(c.dump())![1]);
    process.stderr.write(
      `window files ${atCut} at the cut, ${afterCut} after it; ${entries} held entries written\n`,
    );
    expect(entries).toBeGreaterThan(4);
    await until(async () => {
      const app = (await c.status()).apps[0];
      return app?.state === 'running' && app.window > afterCut + 3;
    });
    const stopped = await c.withClient((cl) => cl.stop('running-sums'));
    expect(stopped.state).toBe('stopped');
    await referenceRun(join(dir, 'ref'), stopped.window);
    const files = await windowFiles(out);
    expect(files.size).toBe(stopped.window);
    expect(files).toEqual(await windowFiles(join(dir, 'ref')));
  });
});
