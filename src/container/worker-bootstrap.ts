import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { turnOffAllocationSitePretenuring } from '../core/pretenuring.ts';
import type { ContainerWorkerData } from './protocol.ts';

/*
 * On Node 20 a worker cannot start from a `.ts` file (not even with `--import tsx`): it starts from this
 * eval'd bootstrap, which registers tsx (an application module may be `.ts` in any case) and the hooks
 * that map 'sluice', 'sluice/actors' and 'sluice/testkit' to the same files the main thread uses (so an
 * operator class of the application passes the engine's instanceof), then imports the container module:
 * container-worker.ts from the sources, container-worker.js from a build.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { register } = require('node:module');
(async () => {
  const tsx = await import(workerData.tsxApi);
  tsx.register();
  register(workerData.hooks);
  await import(workerData.entry);
})().catch((e) => setImmediate(() => { throw e; }));
`;

const require = createRequire(import.meta.url);
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** The package root's src/cli/sluice-resolve-hooks.mjs (shipped in the package beside dist/). */
const HOOKS = new URL(
  ext === '.ts' ? '../cli/sluice-resolve-hooks.mjs' : '../../../src/cli/sluice-resolve-hooks.mjs',
  import.meta.url,
);

export function startContainerWorker(data: Omit<ContainerWorkerData, 'tsxApi' | 'hooks' | 'entry'>): Worker {
  turnOffAllocationSitePretenuring();
  const workerData: ContainerWorkerData = {
    ...data,
    // The ES module build: tsx's CommonJS one registers its hooks by a path that is wrong from here.
    tsxApi: pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href,
    hooks: HOOKS.href,
    entry: new URL(`./container-worker${ext}`, import.meta.url).href,
  };
  return new Worker(BOOTSTRAP, { eval: true, workerData, stderr: false, stdout: false });
}
