/**
 * The console's server on a running application: what it serves, the live feed, taps and drills over
 * the WebSocket, and clean refusals (unknown paths, methods, oversized headers, foreign Host or Origin,
 * malformed or oversized frames, a missing token).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serveConsole } from '../../src/console/server.ts';
import { launch } from '../../src/index.ts';
import meteredApp from '../containers/apps/metered.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';
import { nextMessage, type Served, serveCounting } from './kit.ts';

let served: Served;
beforeAll(async () => {
  served = await serveCounting();
});
afterAll(() => served.close());

const live = (url: string, headers: Record<string, string> = {}) =>
  new WebSocket(`${url.replace('http', 'ws')}/live`, { headers });

/** The close code the server ends a session with. */
function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

/** Raw bytes to the server; resolves with its status line. */
function raw(url: string, request: string | Buffer): Promise<string> {
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

function upgradeStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => {});
  });
}

describe('the console server', () => {
  it('serves the page, its script and the state as JSON', async () => {
    const page = await fetch(`${served.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<svg id="dag"');
    expect((await fetch(`${served.url}/console.js`)).headers.get('content-type')).toMatch(/javascript/);
    const state = (await (await fetch(`${served.url}/api/state`)).json()) as any;
    expect(state.plan.application).toBe('counting');
    expect(state.plan.ports).toEqual(
      expect.arrayContaining(['src.out', 'count.in', 'count.out', 'count:unifier.out']),
    );
    // The fused stream's ports are not offered for taps.
    expect(state.plan.ports).not.toContain('sink.in');
  });

  it('pushes a hello, then metrics every second and timeline entries; a drill shows as a recovery', async () => {
    const ws = live(served.url);
    const hello = await nextMessage(ws, 'hello');
    expect(hello.plan.actors.map((a: any) => a.id)).toEqual(
      expect.arrayContaining(['src', 'count#0', 'count#1', 'counted:unifier', 'double', 'sink']),
    );
    const metrics = await nextMessage(ws, 'metrics');
    expect(metrics.snapshot.operators.find((o: any) => o.operator === 'src').tuplesOut).toBeGreaterThan(0);
    const failure = nextMessage(ws, 'timeline');
    ws.send(JSON.stringify({ type: 'fail', actor: 'count#1' }));
    expect((await nextMessage(ws, 'drilled')).actor).toBe('count#1');
    expect((await failure).entry).toMatchObject({ type: 'failure', actorId: 'count#1' });
    let entry = (await nextMessage(ws, 'timeline')).entry;
    while (entry.type !== 'recovered') entry = (await nextMessage(ws, 'timeline')).entry;
    expect(entry.actors).toEqual(expect.arrayContaining(['count#1', 'counted:unifier', 'double', 'sink']));
    ws.send(JSON.stringify({ type: 'fail', actor: 'nobody' }));
    expect((await nextMessage(ws, 'error')).message).toBe('no actor "nobody"');
    ws.close();
  });

  it('taps a port: a bounded sample of its tuples; a fused port and an unknown one are refused', async () => {
    const ws = live(served.url);
    await nextMessage(ws, 'hello');
    ws.send(JSON.stringify({ type: 'tap', port: 'count.out', sample: 5 }));
    const openedAt = Date.now();
    const opened = await nextMessage(ws, 'tap-opened');
    expect(opened).toMatchObject({ port: 'count.out', channels: 2 });
    const sample = await nextMessage(ws, 'tap');
    // 5 per second is 1 per 200 ms slot: a delivery holds what the slots since the tap opened took (a
    // late timer on a loaded machine delivers several slots at once), never more.
    expect(sample.tuples.length).toBeGreaterThan(0);
    expect(sample.tuples.length).toBeLessThanOrEqual(Math.ceil((Date.now() - openedAt) / 200) + 1);
    expect(Number.isInteger(JSON.parse(sample.tuples[0]))).toBe(true);
    ws.send(JSON.stringify({ type: 'untap', tap: opened.tap }));
    await nextMessage(ws, 'tap-closed');
    ws.send(JSON.stringify({ type: 'tap', port: 'sink.in' }));
    expect((await nextMessage(ws, 'error')).message).toMatch(/thread-local stream "doubled"/);
    ws.send(JSON.stringify({ type: 'tap', port: 'nope.out' }));
    expect((await nextMessage(ws, 'error')).message).toMatch(/no operator "nope"/);
    ws.close();
  });

  it('closes a session cleanly on a malformed, binary or oversized frame, and keeps serving', async () => {
    for (const [frame, code] of [
      ['not json', 1003],
      [JSON.stringify({ type: 'tap', port: 5 }), 1003],
      [Buffer.from([1, 2, 3]), 1003],
      ['x'.repeat(10_000), 1009],
    ] as const) {
      const ws = live(served.url);
      await nextMessage(ws, 'hello');
      const closed = closeCode(ws);
      ws.send(frame);
      expect(await closed).toBe(code);
    }
    // A frame that is not WebSocket at all after the upgrade: the server drops the connection (1002/1006).
    const ws = live(served.url);
    await nextMessage(ws, 'hello');
    const closed = closeCode(ws);
    (ws as any)._socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect([1002, 1006]).toContain(await closed);
    expect((await fetch(`${served.url}/api/state`)).status).toBe(200);
  });

  it('refuses unknown paths, other methods, oversized headers, foreign Host names and origins', async () => {
    expect((await fetch(`${served.url}/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${served.url}/`, { method: 'POST' })).status).toBe(405);
    expect(
      await raw(served.url, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    ).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name as Host.
    expect(await raw(served.url, 'GET /api/state HTTP/1.1\r\nHost: evil.example\r\n\r\n')).toBe(
      'HTTP/1.1 403 Forbidden',
    );
    expect(await upgradeStatus(live(served.url, { origin: 'http://evil.example' }))).toBe(403);
    const wrongPath = new WebSocket(`${served.url.replace('http', 'ws')}/other`);
    expect(await upgradeStatus(wrongPath)).toBe(404);
  });

  it('off loopback: refused without a token; with one, every request needs it', async () => {
    await expect(serveConsole('0.0.0.0:0', () => served.run)).rejects.toThrow(/not a loopback address/);
    await expect(serveConsole('127.0.0.1:0', () => served.run, 'short')).rejects.toThrow(
      /at least 16 characters/,
    );
    const token = 'console-token-0123456789';
    const server = await serveConsole('0.0.0.0:0', () => served.run, token);
    const url = `http://127.0.0.1:${server.address.port}`;
    try {
      expect((await fetch(`${url}/`)).status).toBe(401);
      expect((await fetch(`${url}/api/state`)).status).toBe(401);
      expect((await fetch(`${url}/?token=${token}`)).status).toBe(200);
      expect(
        (await fetch(`${url}/api/state`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      expect(await upgradeStatus(live(url))).toBe(401);
      const ws = new WebSocket(`${url.replace('http', 'ws')}/live?token=${token}`);
      expect((await nextMessage(ws, 'hello')).plan.application).toBe('counting');
      ws.close();
    } finally {
      await server.close();
    }
  });
});

describe('the console of a run on containers', () => {
  it('shows each actor in its container, the workers’ rates, and a drill’s recovery on the timeline', async () => {
    const dir = tempDir('console-containers');
    process.env.METERED_OUT = `${dir}/out`;
    const run = await launch(meteredApp, {
      containers: 2,
      module: new URL('../containers/apps/metered.ts', import.meta.url),
      store: `${dir}/store`,
    });
    const server = await serveConsole('127.0.0.1:0', () => run);
    const ws = live(`http://127.0.0.1:${server.address.port}`);
    try {
      const hello = await nextMessage(ws, 'hello');
      const containers = new Map(hello.plan.actors.map((a: any) => [a.id, a.container]));
      expect(new Set(containers.values())).toEqual(new Set([0, 1]));
      let metrics = await nextMessage(ws, 'metrics');
      while (metrics.point.operators.numbers.outPerSecond === 0) metrics = await nextMessage(ws, 'metrics');
      const target = [...containers].find(([, c]) => c === 1)![0] as string;
      ws.send(JSON.stringify({ type: 'fail', actor: target }));
      expect((await nextMessage(ws, 'drilled')).actor).toBe(target);
      let entry = (await nextMessage(ws, 'timeline')).entry;
      while (entry.type !== 'recovered') entry = (await nextMessage(ws, 'timeline')).entry;
      expect(entry.actors).toContain(target);
    } finally {
      ws.close();
      await server.close();
      await run.stop();
      delete process.env.METERED_OUT;
      removeDir(dir);
    }
  }, 60_000);
});
