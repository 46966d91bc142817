import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Application, launch, type StatusEvent } from '../../src/index.ts';
import { readWindowFiles } from '../recovery/fixtures.ts';
import { clusterFixture } from './cluster-kit.ts';

const COUNTED_APP = new URL('../containers/apps/counted.ts', import.meta.url).pathname;

/** The window files' numbers, in window order. */
function numbers(out: string): number[][] {
  return [...readWindowFiles(out).values()].map((text) => text.trim().split('\n').map(Number));
}

describe('a graceful stop on a cluster with a count window whose source is dry', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-cluster-count-stop-');
  let totalDir = '';
  beforeEach(() => {
    totalDir = mkdtempSync(join(tmpdir(), 'sluice-count-total-'));
  });
  afterEach(() => rmSync(totalDir, { recursive: true, force: true }));

  it('leaves the held window unfinished in every container; the relaunch fills it whole', async () => {
    // The nodes keep the environment they started with: the source reads its total from a file at setup.
    const totalFile = join(totalDir, 'total');
    const { out, cluster } = await fixture.start(['n1', 'n2'], {
      outVar: 'COUNTED_OUT',
      env: { COUNTED_TOTAL_FILE: totalFile },
    });
    writeFileSync(totalFile, '90'); // windows 1–4 fill (4 committed while 5 is held), window 5 gets 10 and waits
    const app = ((await import(pathToFileURL(COUNTED_APP).href)) as { default: Application }).default;
    const options = { cluster: cluster.url, module: COUNTED_APP, containers: 3 };
    const run = await launch(app, options);
    const events: StatusEvent[] = [];
    run.on('status', (e) => events.push(e));
    while (!existsSync(out) || readWindowFiles(out).size < 4) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    await run.stop();
    await run.done;
    expect(events.find((e) => e.type === 'stopped')).toMatchObject({ unfinished: 5 });
    expect(numbers(out)).toHaveLength(4); // nothing of window 5 applied

    writeFileSync(totalFile, '200');
    const again = await launch(app, { ...options, windows: 7 });
    await again.done;
    expect(numbers(out)).toEqual(
      Array.from({ length: 7 }, (_, w) => Array.from({ length: 20 }, (_, i) => w * 20 + i)),
    );
  });
});
