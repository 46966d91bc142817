/**
 * Cluster failover: from a node's SIGKILL to processing resumed. A supervisor and two node processes
 * on 127.0.0.1 run examples/running-sums on 3 containers (windows of 50 ms), placed 0 → a, 1 → b,
 * 2 → a; mid-run one node is SIGKILLed:
 *
 *   partial   b is killed: it hosts only container 1 (sums#0, the unifier, the file sink), downstream of
 *             everything, so only that container restarts (on a); containers 0 and 2 keep running and
 *             their streams re-link to it and replay since the commit.
 *   full      a is killed: it hosts the source's container, upstream of everything: all 3 restart on b
 *             (the baseline, in the same run).
 *
 * Two times per kill, polled every 20 ms from a launcher's connection: `running` (the supervisor reports
 * the application running again: replacements deployed and started) and `past` (the application's done
 * window — the oldest of its containers — passed the one it had when the node was killed: the replaced
 * containers restored, caught up and processing new windows). Medians of interleaved rounds, each in
 * fresh processes, with their range. No pass/fail on time.
 *
 *   node --import tsx bench/cluster-failover.ts [--quick] [--rounds N]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient } from '../src/cluster-run/cluster-client.ts';
import type { BenchOptions, Section, SectionReport } from './section.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'src', 'cli', 'bin.js');
const APP = join(ROOT, 'examples', 'running-sums', 'app.ts');

type Kill = 'partial' | 'full';
type Times = { running: number; past: number; restarted: string };

function start(args: string[], env: NodeJS.ProcessEnv, ready: RegExp) {
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One cluster: launch, let it run, kill a node, time the recovery. */
export async function failover(kind: Kill): Promise<Times> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-failover-'));
  const env = { SUMS_OUT: join(dir, 'out') };
  const procs: ReturnType<typeof start>[] = [];
  let client: ClusterClient | undefined;
  try {
    const sup = start(
      ['supervisor', '--listen', '127.0.0.1:0', '--store', join(dir, 'store')],
      env,
      /listening on (\S+)\n/,
    );
    procs.push(sup);
    const url = /listening on (\S+)\n/.exec(await sup.up)![1]!;
    // One after the other: placement deals the nodes' slots in join order.
    const nodes: Record<string, ReturnType<typeof start>> = {};
    for (const id of ['a', 'b']) {
      nodes[id] = start(['node', '--join', url, '--id', id, '--containers', '2'], env, /joined/);
      procs.push(nodes[id]);
      await nodes[id].up;
    }
    client = await ClusterClient.connect(url);
    const c = client;
    while ((await c.status()).nodes.length < 2) await sleep(20);
    const launched = await c.launch(APP, { streamingWindowMs: 50, containers: 3 });
    const where = launched.placement;
    if (where[0] !== 'a' || where[1] !== 'b' || where[2] !== 'a')
      throw new Error(`unexpected placement ${JSON.stringify(where)}`);
    // Running a while (≥ 150 windows of 50 ms, checkpoints every 5), as a node would before it is
    // lost: its nodes' spare workers, started once the containers run, have had time to load.
    while ((await c.status()).apps[0]!.committed < 150) await sleep(50);
    const before = (await c.status()).apps[0]!.window;
    const t0 = performance.now();
    nodes[kind === 'partial' ? 'b' : 'a']!.child.kill('SIGKILL');
    if (process.env.FAILOVER_LOG) process.stderr.write(`killed at ${new Date().toISOString()}\n`);
    let running = 0;
    for (;;) {
      const app = (await c.status()).apps[0]!;
      const now = performance.now() - t0;
      if (app.restarts > 0 && app.state === 'running' && running === 0) running = now;
      if (app.restarts > 0 && app.state === 'running' && app.window > before) {
        const restarted = /running-sums: restarting (.*) from window/.exec(sup.stderr())?.[1] ?? '?';
        return { running, past: now, restarted };
      }
      if (app.state !== 'running' && app.state !== 'recovering')
        throw new Error(`the application ended ${app.state}: ${app.error}`);
      if (now > 120_000) throw new Error('not resumed within 120 s');
      await sleep(20);
    }
  } finally {
    client?.close();
    // FAILOVER_LOG=1: every process's log (what the recovery spent its time on).
    if (process.env.FAILOVER_LOG)
      for (const [i, p] of procs.entries())
        process.stderr.write(`--- ${['supervisor', 'a', 'b'][i]}\n${p.stderr()}`);
    for (const p of procs) p.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const range = (xs: number[]) => `[${secs(Math.min(...xs))}–${secs(Math.max(...xs))}]`;

export const clusterFailoverSection: Section = {
  title: 'cluster failover: node SIGKILL → processing resumed (partial restart vs every container)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const rounds = o.quick ? 1 : Math.max(o.runs, 3);
    const times: Record<Kill, Times[]> = { partial: [], full: [] };
    for (let r = 0; r < rounds; r++) {
      const order: Kill[] = r % 2 === 0 ? ['partial', 'full'] : ['full', 'partial'];
      for (const kind of order) {
        o.progress(`cluster failover: round ${r + 1} of ${rounds}, ${kind}`);
        times[kind].push(await failover(kind));
      }
    }
    const line = (kind: Kill, label: string) => {
      const t = times[kind];
      const running = t.map((x) => x.running);
      const past = t.map((x) => x.past);
      return `  ${label} running ${secs(median(running))} ${range(running)}   past the kill's window ${secs(median(past))} ${range(past)}`;
    };
    const ratio = median(times.partial.map((x) => x.past)) / median(times.full.map((x) => x.past));
    const pastP = median(times.partial.map((x) => x.past));
    return {
      lines: [
        `  running-sums on 3 containers, windows of 50 ms, supervisor + 2 node processes on 127.0.0.1; medians of ${rounds} interleaved rounds, fresh processes each; [min–max]`,
        `  restarted (partial): ${times.partial[0]?.restarted}; (full): ${times.full[0]?.restarted}`,
        line('partial', 'partial (only the lost container)'),
        line('full', 'full (every container)           '),
        `  partial / full (past)  ${ratio.toFixed(2)}   target kill → resumed ≤ 5 s: ${pastP <= 5000 ? 'met' : 'MISSED'} (partial)`,
      ],
      figures: {
        failoverPartialRunningMs: Math.round(median(times.partial.map((x) => x.running))),
        failoverPartialPastMs: Math.round(pastP),
        failoverFullRunningMs: Math.round(median(times.full.map((x) => x.running))),
        failoverFullPastMs: Math.round(median(times.full.map((x) => x.past))),
      },
    };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--rounds');
  const report = await clusterFailoverSection.run({
    keys: 'typed',
    quick: process.argv.includes('--quick'),
    runs: i > 0 ? Number(process.argv[i + 1]) : 3,
    isolate: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${clusterFailoverSection.title}\n${report.lines.join('\n')}\n`);
}
