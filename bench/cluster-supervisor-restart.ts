/**
 * Cluster supervisor restart: from starting the killed supervisor again to processing resumed. A
 * supervisor and two node processes on 127.0.0.1 run examples/running-sums on 2 containers (one per
 * node, windows of 50 ms); once it committed window 40 the supervisor is SIGKILLed, stays down for 2 s,
 * and is started again on the same store and port:
 *
 *   adopt      nodes with the default grace: they keep their containers, the new supervisor adopts them
 *   relaunch   nodes with --supervisor-grace 0: they stop their containers, the new supervisor relaunches
 *              the application from its commit (the baseline, in the same run)
 *
 * Times from the new supervisor's spawn, polled every 20 ms from a launcher's connection: `listening`
 * (its process is up), `resumed` (the application running and its done window past the one it had at
 * the kill). `down` is the done window the new supervisor first reports minus the one at the kill
 * (adopt: how far the containers got while it was down; relaunch: negative, it restarts from the commit).
 * `advanced` is how many window files the sink wrote while no supervisor ran (from the kill to the new
 * one's spawn): the nodes pace the inputs themselves and hold each window-log entry on two nodes.
 * Medians of interleaved rounds, fresh processes each, with their range. No pass/fail on time.
 *
 *   node --import tsx bench/cluster-supervisor-restart.ts [--quick] [--rounds N]
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient } from '../src/cluster-run/cluster-client.ts';
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
  startSupervisor,
  startTwoNodes,
} from './cluster-processes.ts';
import type { BenchOptions, Section, SectionReport } from './section.ts';

const DOWN_MS = 2000;

type Mode = 'adopt' | 'relaunch';
type Times = { listening: number; resumed: number; down: number; advanced: number; adopted: boolean };

/** Window files the sink wrote (running-sums: one `.jsonl` per window). */
async function windowFiles(out: string): Promise<number> {
  return (await readdir(out).catch(() => [])).filter((f) => f.endsWith('.jsonl')).length;
}

/** One cluster: launch, let it commit 40 windows, kill the supervisor, start it again, time it. */
export async function supervisorRestart(mode: Mode): Promise<Times> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-supervisor-'));
  const env = { SUMS_OUT: join(dir, 'out') };
  const store = join(dir, 'store');
  const procs: SluiceProc[] = [];
  let client: ClusterClient | undefined;
  try {
    const grace = mode === 'relaunch' ? ['--supervisor-grace', '0'] : [];
    const started = await startTwoNodes(store, env, 1, procs, grace);
    const { url, supervisor: first } = started;
    client = started.client;
    await client.launch(APP, { streamingWindowMs: 50, containers: 2 });
    while ((await client.status()).apps[0]!.committed < 40) await sleep(50);
    const before = (await client.status()).apps[0]!.window;
    client.close();
    client = undefined;
    first.child.kill('SIGKILL');
    const atKill = await windowFiles(env.SUMS_OUT);
    await sleep(DOWN_MS);
    const advanced = (await windowFiles(env.SUMS_OUT)) - atKill;
    const t0 = performance.now();
    const port = new URL(url).port;
    const { proc: second } = await startSupervisor(store, env, `127.0.0.1:${port}`);
    procs.push(second);
    const listening = performance.now() - t0;
    client = await ClusterClient.connect(url);
    let down: number | undefined;
    for (;;) {
      const app = (await client.status()).apps[0];
      const now = performance.now() - t0;
      if (app?.state === 'running') {
        down ??= app.window - before;
        if (app.window > before) {
          const adopted = /adopted at epoch/.test(second.stderr());
          return { listening, resumed: now, down, advanced, adopted };
        }
      } else if (app !== undefined && app.state !== 'starting' && app.state !== 'recovering')
        throw new Error(`the application ended ${app.state}: ${app.error}`);
      if (now > 180_000) throw new Error('not resumed within 180 s');
      await sleep(20);
    }
  } finally {
    client?.close();
    const names = ['supervisor', 'a', 'b', 'new supervisor'];
    await cleanUp(procs, dir, !!process.env.SUPERVISOR_RESTART_LOG, names);
  }
}

export const clusterSupervisorRestartSection: Section = {
  title: 'cluster supervisor restart: restarted → processing resumed (adopt running containers vs relaunch)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const rounds = o.quick ? 1 : Math.max(o.runs, 3);
    const times = await interleaved<Mode, Times>(
      rounds,
      ['adopt', 'relaunch'],
      (mode, r) => o.progress(`cluster supervisor restart: round ${r + 1} of ${rounds}, ${mode}`),
      supervisorRestart,
    );
    const line = (mode: Mode, label: string) => {
      const t = times[mode];
      const listening = t.map((x) => x.listening);
      const resumed = t.map((x) => x.resumed);
      const after = resumed.map((x, i) => x - listening[i]!);
      const down = t.map((x) => x.down).join(', ');
      const advanced = t.map((x) => x.advanced).join(', ');
      return `  ${label} listening ${secs(median(listening))} ${range(listening)}   resumed ${secs(median(resumed))} ${range(resumed)}   (after listening ${secs(median(after))} ${range(after)})   windows written while down: ${advanced}; done window at resume − at kill: ${down}`;
    };
    const wrong = times.adopt.some((x) => !x.adopted) ? ['an adopt round relaunched instead'] : [];
    const resumedAdopt = median(times.adopt.map((x) => x.resumed - x.listening));
    const resumedRelaunch = median(times.relaunch.map((x) => x.resumed - x.listening));
    return {
      lines: [
        `  running-sums on 2 containers (one per node), windows of 50 ms, supervisor down ${DOWN_MS} ms; medians of ${rounds} interleaved rounds, fresh processes each; [min–max]`,
        line('adopt', 'adopt    '),
        line('relaunch', 'relaunch '),
        `  adopt / relaunch (resumed after listening)  ${(resumedAdopt / resumedRelaunch).toFixed(2)}`,
      ],
      figures: {
        supervisorRestartAdoptMs: Math.round(resumedAdopt),
        supervisorRestartRelaunchMs: Math.round(resumedRelaunch),
        supervisorRestartWindowsWhileDown: median(times.adopt.map((x) => x.advanced)),
      },
      wrong,
    };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await runAsScript(clusterSupervisorRestartSection);
