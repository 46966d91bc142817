/**
 * Cluster failover: from a node's SIGKILL to processing resumed. A supervisor and two node processes
 * on 127.0.0.1 run examples/running-sums on 3 containers (windows of 50 ms), placed 0 → a, 1 → b,
 * 2 → a; mid-run one node is SIGKILLed:
 *
 *   partial   b is killed: it hosts only container 1 (sums#0, the unifier, the file sink), downstream of
 *             everything, so only that container restarts (on a); containers 0 and 2 keep running and
 *             their streams re-link to it and replay since the commit.
 *   full      a is killed: it hosts the source's container, upstream of everything: all 3 restart on b,
 *             container 1 in its own worker (its actors restored in place: `recycle`), 0 and 2 in b's
 *             spares (b hosts 1 of 3 containers: it keeps 2).
 *   spares    the same kill, b started with --no-reuse-workers: container 1's worker is terminated,
 *             all 3 restart in b's 2 spares and 1 new worker (the other option of issue 10).
 *   before    the same kill, b with --no-reuse-workers --spares 1: how it was (1 spare, 2 new workers).
 *
 * Two times per kill, polled every 20 ms from a launcher's connection: `running` (the supervisor reports
 * the application running again: replacements deployed and started) and `past` (the application's done
 * window — the oldest of its containers — passed the one it had when the node was killed: the replaced
 * containers restored, caught up and processing new windows). Medians of interleaved rounds, each in
 * fresh processes, with their range. No pass/fail on time.
 *
 *   node --import tsx bench/cluster-failover.ts [--quick] [--rounds N]
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterClient } from '../src/cluster-run/cluster-client.ts';
import {
  SUMS_APP as APP,
  cleanUp,
  interleaved,
  median,
  range,
  runAsScript,
  type SluiceProc,
  secs,
  sleep,
  startTwoNodes,
} from './cluster-processes.ts';
import type { BenchOptions, Section, SectionReport } from './section.ts';

type Kill = 'partial' | 'full' | 'spares' | 'before';
const KILLS: readonly Kill[] = ['partial', 'full', 'spares', 'before'];
/** The nodes' options per variant (both nodes get them; only b's matter: it survives). */
const NODE_ARGS: Record<Kill, readonly string[]> = {
  partial: [],
  full: [],
  spares: ['--no-reuse-workers'],
  before: ['--no-reuse-workers', '--spares', '1'],
};
type Times = { running: number; past: number; restarted: string; deployed: string };

/** One cluster: launch, let it run, kill a node, time the recovery. */
export async function failover(kind: Kill): Promise<Times> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-failover-'));
  const env = { SUMS_OUT: join(dir, 'out') };
  const procs: SluiceProc[] = [];
  let client: ClusterClient | undefined;
  try {
    const started = await startTwoNodes(join(dir, 'store'), env, 2, procs, NODE_ARGS[kind]);
    const { supervisor: sup, nodes } = started;
    client = started.client;
    const c = client;
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
        // The survivor's last deploy: in how many reused workers, spares and new ones.
        const survivor = nodes[kind === 'partial' ? 'a' : 'b']!.stderr();
        const deployed = [...survivor.matchAll(/deployed running-sums epoch \d+: (.*)/g)].at(-1)?.[1] ?? '?';
        return { running, past: now, restarted, deployed };
      }
      if (app.state !== 'running' && app.state !== 'recovering')
        throw new Error(`the application ended ${app.state}: ${app.error}`);
      if (now > 120_000) throw new Error('not resumed within 120 s');
      await sleep(20);
    }
  } finally {
    client?.close();
    // FAILOVER_LOG=1: every process's log (what the recovery spent its time on).
    await cleanUp(procs, dir, !!process.env.FAILOVER_LOG, ['supervisor', 'a', 'b']);
  }
}

export const clusterFailoverSection: Section = {
  title: 'cluster failover: node SIGKILL → processing resumed (partial restart vs every container, 3 ways)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const rounds = o.quick ? 1 : Math.max(o.runs, 3);
    const times = await interleaved<Kill, Times>(
      rounds,
      KILLS,
      (kind, r) => o.progress(`cluster failover: round ${r + 1} of ${rounds}, ${kind}`),
      failover,
    );
    const line = (kind: Kill, label: string) => {
      const t = times[kind];
      const running = t.map((x) => x.running);
      const past = t.map((x) => x.past);
      return `  ${label} running ${secs(median(running))} ${range(running)}   past the kill's window ${secs(median(past))} ${range(past)}`;
    };
    const past = (kind: Kill) => median(times[kind].map((x) => x.past));
    const met = (kind: Kill) => (past(kind) <= 5000 ? 'met' : 'MISSED');
    return {
      lines: [
        `  running-sums on 3 containers, windows of 50 ms, supervisor + 2 node processes on 127.0.0.1; medians of ${rounds} interleaved rounds, fresh processes each; [min–max]`,
        `  restarted (partial): ${times.partial[0]?.restarted}; (full): ${times.full[0]?.restarted}`,
        ...KILLS.map(
          (k) => `  survivor's last deploy (${k}): ${times[k].map((x) => x.deployed).join(' | ')}`,
        ),
        line('partial', 'partial (only the lost container)          '),
        line('full', 'full, survivor reuses its worker + spares  '),
        line('spares', 'full, spares only (--no-reuse-workers)     '),
        line('before', 'full, before (1 spare, no reuse)           '),
        `  full / before (past) ${(past('full') / past('before')).toFixed(2)}   spares / before ${(past('spares') / past('before')).toFixed(2)}   partial / before ${(past('partial') / past('before')).toFixed(2)}`,
        `  target kill → resumed ≤ 5 s: partial ${met('partial')}, full ${met('full')}, spares ${met('spares')}, before ${met('before')}`,
      ],
      figures: Object.fromEntries(
        KILLS.flatMap((k) => {
          const name = k[0]!.toUpperCase() + k.slice(1);
          return [
            [`failover${name}RunningMs`, Math.round(median(times[k].map((x) => x.running)))],
            [`failover${name}PastMs`, Math.round(past(k))],
          ];
        }),
      ),
    };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await runAsScript(clusterFailoverSection);
