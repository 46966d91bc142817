/**
 * A console serving several applications (what `sluice supervisor --console` does for its cluster, here
 * with two runs in this process): `?app=NAME` picks one for the state and the live feed, the hello names
 * them all (the page offers a choice), and a name it does not serve is a 404, not a 503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pickApp } from '../../src/cli/cluster-observe.ts';
import { type ConsoleServer, serveConsole } from '../../src/console/server.ts';
import { launch, MemorySnapshotStore, type Run } from '../../src/index.ts';
import meteredApp from '../containers/apps/metered.ts';
import { Collected, countingApp } from '../metrics/apps.ts';
import { nextMessage } from './kit.ts';

let runs: { name: string; state: string; run: Run }[] = [];
let server: ConsoleServer;
let url = '';

beforeAll(async () => {
  const options = { store: new MemorySnapshotStore(), streamingWindowMs: 20, checkpointWindowCount: 4 };
  const counting = await launch(countingApp(new Collected<number>(), { tuplesPerWindow: 50 }), options);
  const metered = await launch(meteredApp, { ...options, store: new MemorySnapshotStore() });
  runs = [
    { name: 'counting', state: 'running', run: counting },
    { name: 'metered', state: 'running', run: metered },
  ];
  const apps = () =>
    runs.map((r) => ({
      name: r.name,
      state: r.state,
      plan: r.run.plan,
      collector: r.run.collector,
      failActor: (id: string, why: string) => r.run.failActor(id, why),
    }));
  server = await serveConsole(
    '127.0.0.1:0',
    (name) => pickApp(apps(), name),
    undefined,
    () => runs.map((r) => r.name),
  );
  url = `http://127.0.0.1:${server.address.port}`;
});

afterAll(async () => {
  await server?.close();
  await Promise.all(runs.map((r) => r.run.stop()));
});

async function state(query: string): Promise<{ status: number; application?: string }> {
  const r = await fetch(`${url}/api/state${query}`);
  if (r.status !== 200) return { status: r.status };
  const body = (await r.json()) as { plan: { application: string } };
  return { status: 200, application: body.plan.application };
}

describe('a console of several applications', () => {
  it('serves the one ?app= names, else the newest running one; an unknown name is a 404', async () => {
    expect(await state('?app=counting')).toEqual({ status: 200, application: 'counting' });
    expect(await state('?app=metered')).toEqual({ status: 200, application: 'metered' });
    expect(await state('')).toEqual({ status: 200, application: 'metered' });
    runs[1]!.state = 'done';
    expect(await state('')).toEqual({ status: 200, application: 'counting' });
    expect(await state('?app=nothing')).toEqual({ status: 404 });
  });

  it('opens the live feed of the named application, its hello naming them all; refuses an unknown one', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/live?app=counting`);
    const hello = await nextMessage(ws, 'hello');
    expect(hello.plan.application).toBe('counting');
    expect(hello.applications).toEqual(['counting', 'metered']);
    ws.close();
    const refused = new WebSocket(`${url.replace('http', 'ws')}/live?app=nothing`);
    const status = await new Promise<number>((resolve, reject) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('open', () => reject(new Error('the upgrade was accepted')));
      refused.once('error', () => {});
    });
    expect(status).toBe(404);
  });
});
