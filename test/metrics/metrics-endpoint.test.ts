/**
 * `sluice run --metrics`: scraped during a run with an injected failure, parsed by an independent
 * Prometheus text parser; bad requests refused cleanly.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import parsePrometheus, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SluiceProcess, sluice, startSluice, type TempDir, tempDir } from '../cli/cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

/** The URL the run logged for its metrics (port 0: the one it was given). */
async function metricsUrl(p: SluiceProcess): Promise<string> {
  await p.waitFor('stderr', /metrics at (http:\S+)\/metrics /);
  return /metrics at (http:\S+)\/metrics /.exec(p.stderr)![1]!;
}

function value(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no ${name} in the scrape`);
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((s, m) => s + Number(m.value), 0);
}

async function scrape(url: string): Promise<ParsedFamily[] | undefined> {
  const r = await fetch(`${url}/metrics`);
  if (r.status === 503) return undefined;
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await r.text());
}

/** Sends raw bytes and resolves with the status line the server answered (or '' if it just closed). */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let got = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      got += d;
    });
    socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('sluice run --metrics', () => {
  it('serves rising per-operator counters, a counted recovery and a bounded commit lag while it runs', async () => {
    const store = `${tmp.dir}/max-cpu`;
    const p = startSluice([
      'run',
      'examples/max-cpu/app.ts',
      '--containers',
      '0',
      '--store',
      store,
      '--window-ms',
      '20',
      '--windows',
      '400',
      '--checkpoint-every',
      '4',
      '--fault',
      'actor:max#1@12',
      '--metrics',
      '127.0.0.1:0',
    ]);
    try {
      const url = await metricsUrl(p);
      const samples: ParsedFamily[][] = [];
      // Scrape until a recovery shows and the counters moved after it (poll; no fixed sleep).
      for (let i = 0; i < 400; i++) {
        const families = await scrape(url);
        if (families) {
          samples.push(families);
          const recovered = value(families, 'sluice_recoveries_total') >= 1;
          const first = samples.findIndex((f) => value(f, 'sluice_recoveries_total') >= 1);
          if (recovered && samples.length - first >= 3) break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      const last = samples.at(-1)!;
      const afterRecovery = samples.findIndex((f) => value(f, 'sluice_recoveries_total') >= 1);
      expect(afterRecovery, 'a scrape shows the recovery').toBeGreaterThanOrEqual(0);
      expect(value(last, 'sluice_failures_total')).toBe(1);
      expect(value(last, 'sluice_actor_restarts_total', { actor: 'max#1' })).toBe(1);
      expect(value(last, 'sluice_actor_restarts_total', { actor: 'readings' })).toBe(0);
      for (const operator of ['readings', 'max', 'print']) {
        const series = samples.map((f) =>
          value(f, operator === 'readings' ? 'sluice_tuples_out_total' : 'sluice_tuples_in_total', {
            operator,
          }),
        );
        expect(series.at(-1), `${operator} counted tuples`).toBeGreaterThan(series[0]!);
        // Counters never go down.
        for (let i = 1; i < series.length; i++) expect(series[i]).toBeGreaterThanOrEqual(series[i - 1]!);
      }
      // The unifier is its own operator, as in the latency series: `sum by (operator)` keeps them apart.
      expect(
        value(last, 'sluice_tuples_in_total', { operator: 'max:unifier', kind: 'unifier' }),
      ).toBeGreaterThan(0);
      expect(value(last, 'sluice_tuples_in_total', { operator: 'max', kind: 'unifier' })).toBe(0);
      for (const f of samples) {
        // Checkpoints every 4 windows, at most 4 windows in flight: a lag beyond that is a stuck commit.
        expect(value(f, 'sluice_commit_lag_windows')).toBeLessThanOrEqual(16);
      }
      const json = (await (await fetch(`${url}/metrics.json`)).json()) as {
        application: string;
        operators: unknown[];
      };
      expect(json.application).toBe('max-cpu');
      expect(json.operators.length).toBeGreaterThanOrEqual(3);
      // Bad requests: refused, and the run goes on.
      expect((await fetch(`${url}/nope`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
      expect(await raw(url, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toBe(
        'HTTP/1.1 431 Request Header Fields Too Large',
      );
      expect(await raw(url, 'NOT HTTP AT ALL\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    } finally {
      p.child.kill('SIGINT');
      await p.exited;
    }
  });

  it('refuses a non-loopback address without a token, before opening the store', async () => {
    const r = await sluice(
      [
        'run',
        'examples/max-cpu/app.ts',
        '--containers',
        '0',
        '--store',
        `${tmp.dir}/refused`,
        '--metrics',
        '0.0.0.0:0',
      ],
      undefined,
      {
        SLUICE_SECRET: '',
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sluice: --metrics 0\.0\.0\.0:0 is not a loopback address: set SLUICE_SECRET/);
    expect(existsSync(`${tmp.dir}/refused`), 'the store was not created').toBe(false);
  });

  it('on 2 containers: the same counters, aggregated from the workers, and the recovery a drill caused', async () => {
    const p = startSluice([
      'run',
      'examples/max-cpu/app.ts',
      '--store',
      `${tmp.dir}/containers`,
      '--window-ms',
      '20',
      '--windows',
      '600',
      '--checkpoint-every',
      '4',
      '--containers',
      '2',
      '--fault',
      'actor:max#1@12',
      '--metrics',
      '127.0.0.1:0',
    ]);
    try {
      const url = await metricsUrl(p);
      const samples: ParsedFamily[][] = [];
      for (let i = 0; i < 600; i++) {
        const families = await scrape(url);
        if (families) {
          samples.push(families);
          const first = samples.findIndex((f) => value(f, 'sluice_recoveries_total') >= 1);
          if (first >= 0 && samples.length - first >= 3) break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const last = samples.at(-1)!;
      expect(value(last, 'sluice_recoveries_total'), 'a scrape shows the recovery').toBeGreaterThanOrEqual(1);
      expect(value(last, 'sluice_failures_total')).toBeGreaterThanOrEqual(1);
      // The failed actor's container was replaced: its actors were restarted.
      expect(value(last, 'sluice_actor_restarts_total', { actor: 'max#1' })).toBeGreaterThanOrEqual(1);
      for (const operator of ['max', 'print']) {
        const series = samples.map((f) => value(f, 'sluice_tuples_in_total', { operator }));
        expect(series.at(-1), `${operator} counted tuples`).toBeGreaterThan(0);
        for (let i = 1; i < series.length; i++) expect(series[i]).toBeGreaterThanOrEqual(series[i - 1]!);
      }
      for (const f of samples) expect(value(f, 'sluice_commit_lag_windows')).toBeLessThanOrEqual(16);
      const json = (await (await fetch(`${url}/metrics.json`)).json()) as {
        actors: { actorId: string; container: number }[];
      };
      expect(new Set(json.actors.map((a) => a.container))).toEqual(new Set([0, 1]));
    } finally {
      p.child.kill('SIGINT');
      await p.exited;
    }
  });

  it('off loopback with a token: 401 without it, 200 with it', async () => {
    const token = 'a-token-of-sixteen-chars';
    const p = startSluice(
      [
        'run',
        'examples/max-cpu/app.ts',
        '--containers',
        '0',
        '--store',
        `${tmp.dir}/token`,
        '--window-ms',
        '20',
        '--metrics',
        '0.0.0.0:0',
      ],
      undefined,
      { SLUICE_SECRET: token },
    );
    try {
      const url = (await metricsUrl(p)).replace('0.0.0.0', '127.0.0.1');
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect(
        (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } }))
          .status,
      ).toBe(401);
      let status = 503;
      for (let i = 0; i < 200 && status === 503; i++) {
        status = (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status;
      }
      expect(status).toBe(200);
      // The scheme is case-insensitive (RFC 7235).
      for (const scheme of ['bearer', 'BEARER']) {
        const auth = { authorization: `${scheme} ${token}` };
        expect((await fetch(`${url}/metrics`, { headers: auth })).status).toBe(200);
      }
    } finally {
      p.child.kill('SIGINT');
      await p.exited;
    }
  });
});
