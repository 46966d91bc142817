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

type Kill = 'partial' | 'full';
type Times = { running: number; past: number; restarted: string };

/** One cluster: launch, let it run, kill a node, time the recovery. */
export async function failover(kind: Kill): Promise<Times> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-failover-'));
  const env = { SUMS_OUT: join(dir, 'out') };
  const procs: SluiceProc[] = [];
  let client: ClusterClient | undefined;
  try {
    const started = await startTwoNodes(join(dir, 'store'), env, 2, procs);
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
    await cleanUp(procs, dir, !!process.env.FAILOVER_LOG, ['supervisor', 'a', 'b']);
  }
}

export const clusterFailoverSection: Section = {
  title: 'cluster failover: node SIGKILL → processing resumed (partial restart vs every container)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const rounds = o.quick ? 1 : Math.max(o.runs, 3);
    const times = await interleaved<Kill, Times>(
      rounds,
      ['partial', 'full'],
      (kind, r) => o.progress(`cluster failover: round ${r + 1} of ${rounds}, ${kind}`),
      failover,
    );
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

if (process.argv[1] === fileURLToPath(import.meta.url)) await runAsScript(clusterFailoverSection);
