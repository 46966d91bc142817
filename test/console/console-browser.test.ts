/**
 * The console as people use it: `sluice run … --console`, the page in a real headless Chromium (Debian's
 * chromium, driven by playwright-core). It shows the operators and a non-zero rate; a failure drill from
 * the page shows on the timeline as a recovery within seconds; a tap shows tuples. Screenshot:
 * test-artifacts/console.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type SluiceProcess, startSluice, type TempDir, tempDir } from '../cli/cli-process.ts';
import { launchChromium } from '../setup/chromium.ts';

let tmp: TempDir;
let app: SluiceProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  tmp = await tempDir();
  app = startSluice([
    'run',
    'examples/max-cpu/app.ts',
    '--containers',
    '0',
    '--store',
    join(tmp.dir, 'store'),
    '--window-ms',
    '50',
    '--checkpoint-every',
    '4',
    '--console',
    '127.0.0.1:0',
  ]);
  await app.waitFor('stderr', /console at http:\S+/);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  app?.child.kill('SIGINT');
  await app?.exited;
  await tmp?.cleanup();
});

const poll = { timeout: 20_000, interval: 100 };

describe('the web console in Chromium', () => {
  it('shows the DAG with live rates, a recovery on the timeline after a drill, and tapped tuples', async () => {
    const url = /console at (http:\S+)/.exec(app.stderr)![1]!;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    // Every actor of the physical plan is a node: the partitions of max, its unifier, the sink.
    for (const id of ['readings', 'max#0', 'max#1', 'max#2', 'max#3', 'max:unifier', 'print']) {
      await page.locator(`[data-node="${id}"]`).waitFor({ timeout: 20_000 });
    }
    await expect
      .poll(
        async () =>
          Number(await page.locator('[data-node="readings"] [data-rate]').getAttribute('data-rate')),
        poll,
      )
      .toBeGreaterThan(0);
    await expect.poll(() => page.locator('#conn').textContent(), poll).toBe('live');
    expect(await page.locator('#operators tbody tr').count()).toBe(4);

    await page.selectOption('#drill-actor', 'max#1');
    await page.click('#drill');
    const recovered = page.locator('#timeline li[data-type="recovered"]');
    await recovered.waitFor({ timeout: 20_000 });
    expect(await recovered.first().textContent()).toMatch(
      /recovered: 3 actors rebuilt \(max#1, max:unifier, print\) from window \d+/,
    );
    expect(await page.locator('#timeline li[data-type="failure"]').first().textContent()).toMatch(
      /max#1 \(max\) failed in window \d+ during tuple: failure drill from the console on max#1/,
    );
    await expect.poll(() => page.locator('#s-recoveries').textContent(), poll).toMatch(/^1 \(last/);

    await page.selectOption('#tap-port', 'readings.out');
    await page.click('#tap-open');
    await expect
      .poll(() => page.locator('#tap-out').textContent(), poll)
      .toMatch(/\{"device":\d+,"cpu":\d+\}/);

    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'console.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
