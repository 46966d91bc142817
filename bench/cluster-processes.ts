/** `sluice supervisor` and `sluice node` processes on 127.0.0.1 for the cluster benches, and their figures. */
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient } from '../src/cluster-run/cluster-client.ts';
import type { Section } from './section.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'src', 'cli', 'bin.js');
export const SUMS_APP = join(ROOT, 'examples', 'running-sums', 'app.ts');

export type SluiceProc = { child: ChildProcess; up: Promise<string>; stderr: () => string };

/** A `sluice` process; `up` resolves with its stdout once `ready` matches it (rejects if it exits first). */
export function startProc(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): SluiceProc {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const up = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (ready.test(out)) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`sluice ${args[0]} exited (${code}) before ready`)));
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  return { child, up, stderr: () => err };
}

const LISTENING = /listening on (\S+)\n/;

/** A supervisor on `listen` (a free port by default), up; its URL from its first line. */
export async function startSupervisor(
  store: string,
  env: NodeJS.ProcessEnv,
  listen = '127.0.0.1:0',
): Promise<{ proc: SluiceProc; url: string }> {
  const proc = startProc(['supervisor', '--listen', listen, '--store', store], env, LISTENING);
  return { proc, url: LISTENING.exec(await proc.up)![1]! };
}

/** A node joining `url` with `containers` slots (not awaited: `up` resolves once it joined). */
export function startNode(
  url: string,
  id: string,
  containers: number,
  env: NodeJS.ProcessEnv,
  more: readonly string[] = [],
): SluiceProc {
  return startProc(
    ['node', '--join', url, '--id', id, '--containers', String(containers), ...more],
    env,
    /joined/,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A supervisor on `store` and nodes a and b of `containers` slots each, joined one after the other
 * (placement deals their slots in join order); each process goes into `procs` as it starts, for the
 * caller's cleanUp. The launcher's connection returns once it lists both nodes.
 */
export async function startTwoNodes(
  store: string,
  env: NodeJS.ProcessEnv,
  containers: number,
  procs: SluiceProc[],
  nodeArgs: readonly string[] = [],
): Promise<{
  url: string;
  supervisor: SluiceProc;
  nodes: Record<string, SluiceProc>;
  client: ClusterClient;
}> {
  const { proc: supervisor, url } = await startSupervisor(store, env);
  procs.push(supervisor);
  const nodes: Record<string, SluiceProc> = {};
  for (const id of ['a', 'b']) {
    const node = startNode(url, id, containers, env, nodeArgs);
    nodes[id] = node;
    procs.push(node);
    await node.up;
  }
  const client = await ClusterClient.connect(url);
  while ((await client.status()).nodes.length < 2) await sleep(20);
  return { url, supervisor, nodes, client };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const range = (xs: number[]) => `[${secs(Math.min(...xs))}–${secs(Math.max(...xs))}]`;

/** Kills every process and removes `dir`; with `log`, prints each process's stderr under its name first. */
export async function cleanUp(
  procs: readonly SluiceProc[],
  dir: string,
  log: boolean,
  names: readonly string[],
): Promise<void> {
  if (log) for (const [i, p] of procs.entries()) process.stderr.write(`--- ${names[i]}\n${p.stderr()}`);
  for (const p of procs) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}

/**
 * `rounds` rounds of every variant, the order rotated each round (with two: alternating, each variant
 * first as often).
 */
export async function interleaved<K extends string, T>(
  rounds: number,
  variants: readonly K[],
  progress: (variant: K, round: number) => void,
  measure: (variant: K) => Promise<T>,
): Promise<Record<K, T[]>> {
  const times = Object.fromEntries(variants.map((v) => [v, []])) as unknown as Record<K, T[]>;
  for (let r = 0; r < rounds; r++) {
    const k = r % variants.length;
    for (const v of [...variants.slice(k), ...variants.slice(0, k)]) {
      progress(v, r);
      times[v].push(await measure(v));
    }
  }
  return times;
}

/** A section run as a script: `--quick`, `--rounds N` (3 by default); wrong results printed as such. */
export async function runAsScript(section: Section): Promise<void> {
  const i = process.argv.indexOf('--rounds');
  const report = await section.run({
    keys: 'typed',
    quick: process.argv.includes('--quick'),
    runs: i > 0 ? Number(process.argv[i + 1]) : 3,
    isolate: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${section.title}\n${report.lines.join('\n')}\n`);
  for (const w of report.wrong ?? []) process.stdout.write(`WRONG: ${w}\n`);
}
