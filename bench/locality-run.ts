/**
 * One timed run of the locality bench, in a fresh process:
 * `node --import tsx bench/locality-run.ts raw|thread|container|node|cpu|cpu1 WINDOWS [WARMUP]` prints
 * `{ "ms": …, "tuples": …, "cpuMs": … }` — the wall time from the start of the first window (sluice: the
 * 'started' event, so worker start-up is not counted) to the last tuple counted (raw: the consumer's
 * report; sluice: the last window done, i.e. the sink has ended it), and the process's CPU time meanwhile;
 * sluice adds `stopMs`, from there to `run.done` (stopping the containers: not stream throughput).
 * With WARMUP, `steady` ({ ms, cpuMs }) is the same span from the end of window WARMUP (raw: the consumer
 * has counted WARMUP windows' tuples; sluice: the `window` event of WARMUP) to the end.
 *
 * sluice runs with its defaults: checkpoints every 10 windows (the default count) to a LevelSnapshotStore,
 * here in a fresh directory in /tmp (LOCALITY_CHECKPOINTS=0 turns them off, for experiments).
 *
 * raw: two workers, the same encoded batches over a bare MessagePort. thread / container: source → sink
 * in this thread, fused or through a mailbox. node: source and sink on 2 containers (worker threads).
 * LOCALITY_CAPACITY sets mailboxCapacity (the credit across containers) for experiments.
 * cpu: a 2-partition pipeline with CPU work per tuple on 2 containers (do both cores work?); cpu1: the
 * same in this thread, for comparison under the same load.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { LevelSnapshotStore, MemorySnapshotStore } from '../src/index.ts';
import { type Span, spanFrom } from './measure.ts';

const [variant = 'node', windowsText = '80', warmupText = '0'] = process.argv.slice(2);
const windows = Number(windowsText);
const warmup = Number(warmupText);

const APP = new URL('./locality-app.ts', import.meta.url);

async function runSluice(): Promise<{
  ms: number;
  tuples: number;
  cpuMs: number;
  stopMs: number;
  steady?: Span;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-locality-'));
  process.env.LOCALITY_COUNT = join(dir, 'count');
  process.env.LOCALITY_STREAM =
    variant === 'thread' ? 'thread' : variant === 'container' ? 'container' : 'node';
  process.env.LOCALITY_HEAVY = variant.startsWith('cpu') ? '1' : '0';
  const { launch } = await import('../src/index.ts');
  const { default: app } = await import(APP.href);
  const containers = variant === 'node' || variant === 'cpu' ? { containers: 2, module: APP } : {};
  // The two-cores check keeps its old setting (no checkpoints): it compares CPU/wall, not with raw.
  const checkpoints = !(variant.startsWith('cpu') || process.env.LOCALITY_CHECKPOINTS === '0');
  const run = await launch(app, {
    ...containers,
    store: checkpoints ? new LevelSnapshotStore(join(dir, 'store')) : new MemorySnapshotStore(),
    windows,
    virtualTime: true,
    ...(checkpoints ? {} : { checkpointWindowCount: 0 }),
    ...(process.env.LOCALITY_CAPACITY ? { mailboxCapacity: Number(process.env.LOCALITY_CAPACITY) } : {}),
  });
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let t1 = 0;
  let cpu1 = cpu0;
  let steadyFrom: { end(): Span } | undefined;
  let steady: Span | undefined;
  run.on('status', (e) => {
    if (e.type === 'started') {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    } else if (e.type === 'window' && e.window === warmup && warmup > 0) {
      steadyFrom = spanFrom();
    } else if (e.type === 'window' && e.window === windows) {
      t1 = performance.now();
      cpu1 = process.cpuUsage();
      steady = steadyFrom?.end();
    }
  });
  await run.done;
  const end = performance.now();
  if (t1 === 0) throw new Error(`no event for window ${windows}`);
  const ms = t1 - t0;
  const cpu = { user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system };
  const tuples = readdirSync(dir)
    .filter((f) => f.startsWith('count.'))
    .map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { n: number }).n)
    .reduce((a, b) => a + b, 0);
  rmSync(dir, { recursive: true, force: true });
  return {
    ms,
    tuples,
    cpuMs: (cpu.user + cpu.system) / 1000,
    stopMs: end - t1,
    ...(steady ? { steady } : {}),
  };
}

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})().catch((e) => setImmediate(() => { throw e; }));
`;

async function runRaw(): Promise<{ ms: number; tuples: number; cpuMs: number; steady?: Span }> {
  const require = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./locality-raw-worker.ts', import.meta.url).href;
  const batches = (windows * 65_536) / 1024;
  const { port1, port2 } = new MessageChannel();
  const start = (role: string, port: MessagePort) =>
    new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { tsxApi, entry, role, port, batches, markAfter: (warmup * 65_536) / 1024 },
      transferList: [port],
    });
  const producer = start('produce', port1);
  const consumer = start('consume', port2);
  const ready = (w: Worker) => new Promise((r) => w.once('message', r));
  await Promise.all([ready(producer), ready(consumer)]);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let steadyFrom: { end(): Span } | undefined;
  const result = new Promise<{ n: number }>((r) =>
    consumer.on('message', (m: { n: number } | 'mark') => {
      if (m === 'mark') steadyFrom = spanFrom();
      else r(m);
    }),
  );
  producer.postMessage('go');
  const { n } = await result;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const steady = steadyFrom?.end();
  await Promise.all([producer.terminate(), consumer.terminate()]);
  return { ms, tuples: n, cpuMs: (cpu.user + cpu.system) / 1000, ...(steady ? { steady } : {}) };
}

const r = variant === 'raw' ? await runRaw() : await runSluice();
process.stdout.write(`${JSON.stringify(r)}\n`);
