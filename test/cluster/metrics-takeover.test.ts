/**
 * Prometheus counters through a supervisor restart: real `sluice supervisor --metrics --console` and two
 * `sluice node` processes on 127.0.0.1 run examples/running-sums on two containers. A failure drill
 * (the console's) replaces a container's worker on its node, so a worker's counts are carried over a
 * replacement too; then the supervisor is SIGKILLed and started again on its store, adopts the
 * containers, and every counter series it serves is at least what the killed one served last: the
 * nodes' counts (tuples, windows, checkpoints, backpressure) come from the nodes as they stand, the
 * recovery and failure counts from the store. Waits are on conditions, bounded by the test timeout.
 */
import parsePrometheus from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clusterFixture, SUMS_APP, stopAndCompare, until } from './cluster-kit.ts';

const OBSERVE = ['--metrics', '127.0.0.1:0', '--console', '127.0.0.1:0'];

/** Every counter series of a scrape: `name{labels}` → value. */
async function counters(url: string): Promise<Map<string, number>> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  const series = new Map<string, number>();
  for (const f of parsePrometheus(await r.text())) {
    if (f.type !== 'COUNTER') continue;
    for (const m of f.metrics) {
      const labels = Object.entries(m.labels ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`);
      series.set(`${f.name}{${labels.join(',')}}`, Number(m.value));
    }
  }
  return series;
}

const sum = (series: Map<string, number>, name: string) =>
  [...series].filter(([k]) => k.startsWith(`${name}{`)).reduce((s, [, v]) => s + v, 0);

/** The endpoints' URLs, from what the current supervisor printed. */
function endpoints(stderr: string): { metrics: string; console: string } {
  return {
    metrics: /metrics at (http:\S+)\/metrics /.exec(stderr)![1]!,
    console: /console at (http:\S+)\//.exec(stderr)![1]!,
  };
}

/** A failure drill on `actor`, through the console's live socket. */
async function drill(consoleUrl: string, actor: string): Promise<void> {
  const ws = new WebSocket(`${consoleUrl.replace(/^http/, 'ws')}/live?app=running-sums`);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const drilled = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; message?: string };
        if (m.type === 'drilled') resolve();
        if (m.type === 'error') reject(new Error(m.message));
      });
    });
    ws.send(JSON.stringify({ type: 'fail', actor }));
    await drilled;
  } finally {
    ws.close();
  }
}

describe('metrics through a supervisor restart', { timeout: 150_000 }, () => {
  const fixture = clusterFixture('sluice-metrics-takeover-');

  it('the restarted supervisor serves every counter at or above what the killed one served', async () => {
    const { dir, out, cluster } = await fixture.start(['n1', 'n2'], { supervisorArgs: OBSERVE });
    await cluster.supervisor.waitFor('stderr', /console at http:\S+/);
    const first = endpoints(cluster.supervisor.stderr);
    await cluster.client.launch(SUMS_APP, { virtualTime: true, containers: 2 });
    await until(async () => sum(await counters(first.metrics), 'sluice_checkpoints_total') > 0);

    await drill(first.console, 'sums#1');
    let before = new Map<string, number>();
    await until(async () => {
      before = await counters(first.metrics);
      return sum(before, 'sluice_recoveries_total') >= 1;
    });
    // A few more windows: the recovery's counts are in the store, the new workers have reported.
    const windowsThen = sum(before, 'sluice_windows_total');
    await until(async () => {
      before = await counters(first.metrics);
      return sum(before, 'sluice_windows_total') > windowsThen + 20;
    });

    await cluster.restartSupervisor();
    await cluster.supervisor.waitFor('stderr', /running-sums adopted at epoch/);
    await cluster.supervisor.waitFor('stderr', /metrics at http:\S+/);
    const second = endpoints(cluster.supervisor.stderr);
    let after = new Map<string, number>();
    await until(async () => {
      after = await counters(second.metrics);
      return sum(after, 'sluice_tuples_in_total') > sum(before, 'sluice_tuples_in_total');
    });

    expect([...before.keys()].filter((k) => k.startsWith('sluice_tuples_in_total{')).length).toBe(6);
    const lower = [...before]
      .filter(([k, v]) => !((after.get(k) ?? -1) >= v))
      .map(([k, v]) => `${k}: ${v} → ${after.get(k)}`);
    expect(lower).toEqual([]);
    expect(sum(after, 'sluice_recoveries_total')).toBe(1);
    expect(sum(after, 'sluice_failures_total')).toBe(1);
    // `sluice status` says the same as the metrics (it said 0 restarts after a takeover).
    const status = (await cluster.client.status()).apps[0]!;
    expect([status.restarts, sum(after, 'sluice_restarts_total')]).toEqual([1, 1]);
    await stopAndCompare(cluster.client, dir, out);
  });
});
