/** A supervisor and nodes as real `sluice` processes on 127.0.0.1, and the oracle of their output. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, onTestFailed } from 'vitest';
import { ClusterClient } from '../../src/cluster-run/cluster-client.ts';
import { launch, MemorySnapshotStore } from '../../src/index.ts';
import { repoRoot, type SluiceProcess, startSluice } from '../cli/cli-process.ts';

export const SUMS_APP = join(repoRoot, 'examples', 'running-sums', 'app.ts');

export type Cluster = {
  url: string;
  supervisor: SluiceProcess;
  nodes: Map<string, SluiceProcess>;
  client: ClusterClient;
  startNode(id: string, env?: NodeJS.ProcessEnv): Promise<SluiceProcess>;
  stop(): Promise<void>;
  /** Prints what every process wrote on stderr (a failed test's evidence). */
  dump(): void;
  /** Kills the supervisor with SIGKILL and starts another on the same port, store and options. */
  restartSupervisor(): Promise<void>;
};

export async function startCluster(
  store: string,
  nodeIds: readonly string[],
  env: NodeJS.ProcessEnv,
  /** More options of `sluice supervisor` (--metrics, --console). */
  supervisorArgs: readonly string[] = [],
  /** More options of every `sluice node` (--supervisor-grace). */
  nodeArgs: readonly string[] = [],
): Promise<Cluster> {
  let supervisor = startSluice(
    ['supervisor', '--listen', '127.0.0.1:0', '--store', store, ...supervisorArgs],
    repoRoot,
    env,
  );
  await supervisor.waitFor('stdout', /listening on ws:\/\/\S+\n/);
  const url = /listening on (ws:\/\/\S+)\n/.exec(supervisor.stdout)![1]!;
  const nodes = new Map<string, SluiceProcess>();
  const startNode = async (id: string, nodeEnv: NodeJS.ProcessEnv = {}) => {
    const args = ['node', '--join', url, '--id', id, '--containers', '2', ...nodeArgs];
    const node = startSluice(args, repoRoot, {
      ...env,
      ...nodeEnv,
    });
    nodes.set(id, node);
    await node.waitFor('stdout', /joined/);
    return node;
  };
  await Promise.all(nodeIds.map((id) => startNode(id)));
  // After the nodes: the supervisor drops an authenticated connection that sends nothing for 5 s.
  const secret = env.SLUICE_SECRET ? Buffer.from(env.SLUICE_SECRET) : undefined;
  let client = await ClusterClient.connect(url, { secret });
  const old: SluiceProcess[] = [];
  const dump = () => {
    const all: [string, SluiceProcess][] = [
      ...old.map((o): [string, SluiceProcess] => ['old supervisor', o]),
      ['supervisor', supervisor],
      ...nodes,
    ];
    for (const [name, p] of all) process.stderr.write(`--- ${name}\n${p.stderr}`);
  };
  return {
    url,
    get supervisor() {
      return supervisor;
    },
    nodes,
    get client() {
      return client;
    },
    startNode,
    async restartSupervisor() {
      supervisor.child.kill('SIGKILL');
      await supervisor.exited;
      old.push(supervisor);
      const port = new URL(url).port;
      supervisor = startSluice(
        ['supervisor', '--listen', `127.0.0.1:${port}`, '--store', store, ...supervisorArgs],
        repoRoot,
        env,
      );
      await supervisor.waitFor('stdout', /listening on ws:\/\/\S+\n/);
      client = await ClusterClient.connect(url, { secret });
    },
    dump,
    async stop() {
      client.close();
      if (process.env.SLUICE_CLUSTER_TEST_LOG) dump();
      for (const p of [...nodes.values(), supervisor]) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      await Promise.all([...nodes.values(), supervisor].map((p) => p.exited));
    },
  };
}

/**
 * Registers an afterEach that stops the cluster `start` made and removes its directory (a fresh one
 * named `prefix…` each time); a failed test prints every process's stderr.
 */
export function clusterFixture(prefix: string) {
  let cluster: Cluster | undefined;
  let dir = '';
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    /** A supervisor and `nodeIds` (joined in parallel), the app writing its windows to `<dir>/out`. */
    async start(
      nodeIds: readonly string[],
      options: {
        env?: NodeJS.ProcessEnv;
        nodeArgs?: readonly string[];
        outVar?: string;
        /** More options of `sluice supervisor` (--metrics), given again to a restarted one. */
        supervisorArgs?: readonly string[];
      } = {},
    ): Promise<{ dir: string; out: string; cluster: Cluster }> {
      dir = await mkdtemp(join(tmpdir(), prefix));
      const out = join(dir, 'out');
      const env = { [options.outVar ?? 'SUMS_OUT']: out, ...options.env };
      const started = await startCluster(
        join(dir, 'store'),
        nodeIds,
        env,
        options.supervisorArgs,
        options.nodeArgs,
      );
      cluster = started;
      onTestFailed(() => started.dump());
      return { dir, out, cluster: started };
    },
  };
}

/** An app (running-sums by default) in this thread on virtual time: what an undisturbed run writes. */
export async function referenceRun(
  out: string,
  windows: number,
  appPath = SUMS_APP,
  /** The variable the app reads its output directory from. */
  outVar = 'SUMS_OUT',
): Promise<void> {
  const before = process.env[outVar];
  process.env[outVar] = out;
  try {
    const app = ((await import(pathToFileURL(appPath).href)) as { default: Parameters<typeof launch>[0] })
      .default;
    const run = await launch(app, { store: new MemorySnapshotStore(), windows, virtualTime: true });
    await run.done;
  } finally {
    if (before === undefined) delete process.env[outVar];
    else process.env[outVar] = before;
  }
}

/** The window files in `out` are `windows` and those of running-sums run undisturbed (in `<dir>/ref`). */
export async function expectReferenceOutput(dir: string, out: string, windows: number): Promise<void> {
  await referenceRun(join(dir, 'ref'), windows);
  const files = await windowFiles(out);
  expect(files.size).toBe(windows);
  expect(files).toEqual(await windowFiles(join(dir, 'ref')));
}

/** Stops running-sums gracefully (which fixes its last window), then checks its output as above. */
export async function stopAndCompare(client: ClusterClient, dir: string, out: string): Promise<void> {
  const stopped = await client.stop('running-sums');
  expect(stopped.state).toBe('stopped');
  await expectReferenceOutput(dir, out, stopped.window);
}

/** Every window file under `dir` (partition subdirectories too; the fence directory left out), by name. */
export async function windowFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && e.name !== '.fence') await walk(join(d, e.name), `${prefix}${e.name}/`);
      else if (e.isFile() && e.name.endsWith('.jsonl'))
        files.set(`${prefix}${e.name}`, await readFile(join(d, e.name), 'utf8'));
    }
  };
  await walk(dir, '');
  return files;
}

/** Polls `f` until it holds (the test's own timeout bounds it: no wall-clock assertion). */
export async function until(f: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await f())) await new Promise((r) => setTimeout(r, 50));
}

/** Until `out` holds at least `n` window files. */
export const untilWindowFiles = (out: string, n: number) =>
  until(async () => (await windowFiles(out)).size >= n);

/** Until the first application is running at a window past `window`. */
export const untilRunningPast = (client: ClusterClient, window: number) =>
  until(async () => {
    const app = (await client.status()).apps[0];
    return app?.state === 'running' && app.window > window;
  });

/** Until the first application restarted and runs `windows` windows past where it was at its restart. */
export async function untilRecovered(client: ClusterClient, windows: number): Promise<void> {
  let atRestart = 0;
  await until(async () => {
    const app = (await client.status()).apps[0]!;
    if (atRestart === 0 && app.restarts > 0) atRestart = app.window;
    return app.restarts > 0 && app.state === 'running' && app.window > atRestart + windows;
  });
}
