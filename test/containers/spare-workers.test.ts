/// <reference path="../../src/container/comlink.d.ts" />
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { afterEach, expect, test } from 'vitest';
import type { ContainerApi } from '../../src/container/container-worker.ts';
import { SpareWorkers } from '../../src/container/spare-workers.ts';
import { assignContainers, planPhysical } from '../../src/index.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';
import sumsApp from './apps/sums.ts';

/* Real worker threads, each loading the sums application (a second or more on a loaded machine). */
const SUMS = new URL('./apps/sums.ts', import.meta.url).href;
const pools: SpareWorkers[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  for (const d of dirs.splice(0)) removeDir(d);
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

test('spares start only on fill(), one at a time; take() hands over a worker with the application loaded', async () => {
  const pool = new SpareWorkers({ module: SUMS, applicationName: 'sums', containers: 2 }, 2);
  pools.push(pool);
  expect(pool.count).toBe(0);
  pool.fill();
  expect(pool.count).toBe(1); // the second starts once the first is ready
  await until(() => pool.readyCount === 2);
  const worker = pool.take();
  expect(pool.count).toBe(1); // no refill until the next fill()
  const api = Comlink.wrap<ContainerApi>(nodeEndpoint(worker as never));
  // Planned as the main thread plans it on 2 containers: the module is loaded and answers at once.
  const planned = assignContainers(planPhysical(sumsApp.dag()), 2).actors;
  expect(await api.actorIds()).toEqual(planned.map((a) => `${a.id}@${a.container}`));
  api[Comlink.releaseProxy]();
  await worker.terminate();
  pool.fill();
  await until(() => pool.readyCount === 2);
}, 120_000);

test('a module that fails to load stops the refills: take() then starts a fresh worker', async () => {
  const dir = tempDir('spares');
  dirs.push(dir);
  const broken = join(dir, 'broken.ts');
  writeFileSync(broken, "throw new Error('this module never loads');\n");
  const pool = new SpareWorkers(
    { module: pathToFileURL(broken).href, applicationName: 'broken', containers: 2 },
    2,
  );
  pools.push(pool);
  pool.fill();
  await until(() => pool.count === 0);
  // No second spare was started after the first died unready.
  await new Promise((r) => setTimeout(r, 200));
  expect(pool.count).toBe(0);
  const fresh = pool.take();
  const exited = new Promise<number>((r) => fresh.once('exit', r));
  fresh.on('error', () => {});
  expect(await exited).toBe(1);
}, 120_000);

test('hold() starts no more spares until the next fill(); resize() ends those over the new size', async () => {
  const pool = new SpareWorkers({ module: SUMS, applicationName: 'sums', containers: 2 }, 3);
  pools.push(pool);
  pool.fill();
  pool.hold(); // a deploy began: the spare loading finishes, no next one starts
  await until(() => pool.readyCount === 1);
  expect(pool.count).toBe(1);
  pool.fill();
  expect(pool.count).toBe(2);
  await until(() => pool.readyCount === 3);
  pool.resize(1);
  expect([pool.size, pool.count]).toEqual([1, 1]);
  const worker = pool.take();
  const api = Comlink.wrap<ContainerApi>(nodeEndpoint(worker as never));
  expect((await api.actorIds()).length).toBeGreaterThan(0); // the one kept still answers
  api[Comlink.releaseProxy]();
  await worker.terminate();
}, 120_000);

test('a pool of size 0 (launch option spareWorkers: 0) starts no worker on fill(); take() starts a fresh one', async () => {
  const pool = new SpareWorkers({ module: SUMS, applicationName: 'sums', containers: 2 }, 0);
  pools.push(pool);
  pool.fill();
  expect([pool.size, pool.count]).toEqual([0, 0]);
  const fresh = pool.take();
  expect(pool.count).toBe(0);
  const api = Comlink.wrap<ContainerApi>(nodeEndpoint(fresh as never));
  expect((await api.actorIds()).length).toBeGreaterThan(0);
  api[Comlink.releaseProxy]();
  await fresh.terminate();
}, 120_000);
