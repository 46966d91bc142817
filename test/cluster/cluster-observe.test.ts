/**
 * `sluice supervisor --metrics --console`: a supervisor and two real node processes on 127.0.0.1 run
 * examples/running-sums on two containers, one per node. The Prometheus endpoint, parsed by an
 * independent parser, shows non-zero rates for actors on both nodes, labelled with their node and
 * container; `sluice tap` against the supervisor's console prints tuples from a node's container; the
 * console in a real headless Chromium shows the operators, and after a node is killed with SIGKILL the
 * failure and the recovery on its timeline (screenshot: test-artifacts/cluster-console.png). Waits are on
 * conditions, bounded by the test timeout.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheus, { type ParsedFamily } from 'parse-prometheus-text-format';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { repoRoot, sluice, startSluice } from '../cli/cli-process.ts';
import { launchChromium } from '../setup/chromium.ts';
import { type Cluster, SUMS_APP, startCluster, until } from './cluster-kit.ts';

/** Sum of a family's samples whose labels include `labels`. */
function value(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) return 0;
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((s, m) => s + Number(m.value), 0);
}

async function scrape(url: string): Promise<ParsedFamily[]> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await r.text());
}

/** Tuples per second in and out of the actors a node hosts. */
function nodeRate(families: ParsedFamily[], node: string): number {
  const labels = { application: 'running-sums', node };
  return (
    value(families, 'sluice_tuples_in_per_second', labels) +
    value(families, 'sluice_tuples_out_per_second', labels)
  );
}

describe('the cluster supervisor serves metrics, the console and taps', { timeout: 150_000 }, () => {
  let cluster: Cluster | undefined;
  let browser: Browser | undefined;
  let dir = '';
  let metricsUrl = '';
  let consoleUrl = '';
  let consoleAddress = '';
  /** The container placed on n1 (the node the last test kills). */
  let onN1 = -1;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-cluster-observe-'));
    cluster = await startCluster(join(dir, 'store'), ['n1', 'n2'], { SUMS_OUT: join(dir, 'out') }, [
      '--metrics',
      '127.0.0.1:0',
      '--console',
      '127.0.0.1:0',
    ]);
    const s = cluster.supervisor;
    await s.waitFor('stderr', /console at http:\S+/);
    metricsUrl = /metrics at (http:\S+)\/metrics /.exec(s.stderr)![1]!;
    consoleUrl = /console at (http:\S+)/.exec(s.stderr)![1]!;
    consoleAddress = new URL(consoleUrl).host;
    const started = await cluster.client.launch(SUMS_APP, { streamingWindowMs: 20, containers: 2 });
    expect(new Set(Object.values(started.placement))).toEqual(new Set(['n1', 'n2']));
    onN1 = Number(Object.entries(started.placement).find(([, node]) => node === 'n1')![0]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('scrapes per-actor rates from both nodes, labelled with application, node and container', async () => {
    onTestFailed(() => cluster?.dump());
    let families: ParsedFamily[] = [];
    await until(async () => {
      families = await scrape(metricsUrl);
      return (
        nodeRate(families, 'n1') > 0 &&
        nodeRate(families, 'n2') > 0 &&
        value(families, 'sluice_committed_window', { application: 'running-sums' }) > 0
      );
    });
    const sums = families
      .find((f) => f.name === 'sluice_tuples_in_total')!
      .metrics.filter((m) => m.labels?.operator === 'sums' && m.labels.kind === 'operator');
    expect(sums.length).toBe(3);
    for (const m of sums) {
      expect(m.labels).toMatchObject({ application: 'running-sums' });
      expect(['n1', 'n2']).toContain(m.labels!.node);
      expect(['0', '1']).toContain(m.labels!.container);
    }

    const json = (await (await fetch(`${metricsUrl}/metrics.json`)).json()) as {
      applications: { application: string; actors: { actorId: string; node?: string }[] }[];
    };
    expect(json.applications.map((a) => a.application)).toEqual(['running-sums']);
    const nodes = new Set(json.applications[0]!.actors.map((a) => a.node));
    expect(nodes).toEqual(new Set(['n1', 'n2']));
    expect((await fetch(`${metricsUrl}/metrics.json?app=nothing`)).status).toBe(404);
  });

  it('sluice tap against the supervisor prints tuples sampled on the node that writes the port', async () => {
    onTestFailed(() => cluster?.dump());
    const tap = await sluice([
      'tap',
      SUMS_APP,
      '--port',
      'sums.out',
      '--console',
      consoleAddress,
      '--sample',
      '50',
      '--limit',
      '3',
    ]);
    expect(tap.code, tap.stderr).toBe(0);
    const lines = tap.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ key: expect.any(Number) });
    expect(tap.stderr).toMatch(/tap on sums\.out \(\d+ channels?\)/);
  });

  it('shows the operators in Chromium, and a killed node as a failure and a recovery on the timeline', async () => {
    onTestFailed(() => cluster?.dump());
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${consoleUrl}?app=running-sums`);
    for (const id of ['numbers', 'sums#0', 'sums#1', 'sums#2', 'files']) {
      await page.locator(`[data-node="${id}"]`).waitFor({ timeout: 30_000 });
    }
    const poll = { timeout: 30_000, interval: 100 };
    await expect
      .poll(
        async () => Number(await page.locator('[data-node="numbers"] [data-rate]').getAttribute('data-rate')),
        poll,
      )
      .toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('#containers-legend').textContent(), poll)
      .toMatch(/c0 on n[12], c1 on n[12]/);

    cluster!.nodes.get('n1')!.child.kill('SIGKILL');
    const failure = page.locator('#timeline li[data-type="failure"]');
    await failure.first().waitFor({ timeout: 60_000 });
    // Its connection closed, or a survivor's stream to it: either way n1's container failed.
    expect(await failure.first().textContent()).toMatch(
      new RegExp(`container ${onN1} \\(.*\\) failed in window \\d+ during container: `),
    );
    const recovered = page.locator('#timeline li[data-type="recovered"]');
    await recovered.first().waitFor({ timeout: 60_000 });
    expect(await recovered.first().textContent()).toMatch(
      /recovered: \d+ actors? rebuilt .* from window \d+/,
    );
    await expect.poll(() => page.locator('#s-recoveries').textContent(), poll).toMatch(/^1 \(last/);
    // Every container now runs on n2, and the rates come back there.
    await expect
      .poll(() => page.locator('#containers-legend').textContent(), poll)
      .toMatch(/c0 on n2, c1 on n2/);
    await until(async () => {
      const families = await scrape(metricsUrl);
      return value(families, 'sluice_recoveries_total') >= 1 && nodeRate(families, 'n2') > 0;
    });

    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'cluster-console.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe('sluice supervisor --metrics and --console with a cluster secret', () => {
  it('on loopback need no token, secret or not (DESIGN §7: off loopback the secret is the token)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cluster-observe-'));
    const secret = 'a-cluster-secret-of-32-characters';
    const p = startSluice(
      [
        'supervisor',
        '--listen',
        '127.0.0.1:0',
        '--store',
        dir,
        '--metrics',
        '127.0.0.1:0',
        '--console',
        '127.0.0.1:0',
      ],
      repoRoot,
      { SLUICE_SECRET: secret },
    );
    try {
      await p.waitFor('stdout', /listening on ws:/);
      const metrics = /metrics at (http:\S+)\/metrics /.exec(p.stderr)![1]!;
      const consoleAt = /console at (http:\S+)\//.exec(p.stderr)![1]!;
      const bearer = { authorization: `Bearer ${secret}` };
      expect((await fetch(`${metrics}/metrics`)).status).toBe(200);
      expect((await fetch(`${metrics}/metrics`, { headers: bearer })).status).toBe(200);
      expect((await fetch(`${consoleAt}/`)).status).toBe(200);
      // No application yet: nothing to show.
      expect((await fetch(`${consoleAt}/api/state`)).status).toBe(503);
    } finally {
      p.child.kill('SIGINT');
      await p.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sluice supervisor --console off loopback', () => {
  it('is refused without a cluster secret or token, before anything listens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cluster-observe-'));
    try {
      const p = startSluice([
        'supervisor',
        '--listen',
        '127.0.0.1:0',
        '--store',
        dir,
        '--console',
        '0.0.0.0:0',
      ]);
      const exited = await p.exited;
      expect(exited.code).toBe(2);
      expect(exited.stderr).toMatch(/--console 0\.0\.0\.0:0 is not a loopback address/);
      expect(exited.stdout).not.toMatch(/listening/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
