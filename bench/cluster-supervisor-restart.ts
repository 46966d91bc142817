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
 * Medians of interleaved rounds, fresh processes each, with their range. No pass/fail on time.
 *
 *   node --import tsx bench/cluster-supervisor-restart.ts [--quick] [--rounds N]
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
const DOWN_MS = 2000;

type Mode = 'adopt' | 'relaunch';
type Times = { listening: number; resumed: number; down: number; adopted: boolean };

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

/** One cluster: launch, let it commit 40 windows, kill the supervisor, start it again, time it. */
export async function supervisorRestart(mode: Mode): Promise<Times> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-supervisor-'));
  const env = { SUMS_OUT: join(dir, 'out') };
  const store = join(dir, 'store');
  const procs: ReturnType<typeof start>[] = [];
  let client: ClusterClient | undefined;
  try {
    const first = start(
      ['supervisor', '--listen', '127.0.0.1:0', '--store', store],
      env,
      /listening on (\S+)\n/,
    );
    procs.push(first);
    const url = /listening on (\S+)\n/.exec(await first.up)![1]!;
    const grace = mode === 'relaunch' ? ['--supervisor-grace', '0'] : [];
    for (const id of ['a', 'b']) {
      const node = start(['node', '--join', url, '--id', id, '--containers', '1', ...grace], env, /joined/);
      procs.push(node);
      await node.up;
    }
    client = await ClusterClient.connect(url);
    while ((await client.status()).nodes.length < 2) await sleep(20);
    await client.launch(APP, { streamingWindowMs: 50, containers: 2 });
    while ((await client.status()).apps[0]!.committed < 40) await sleep(50);
    const before = (await client.status()).apps[0]!.window;
    client.close();
    client = undefined;
    first.child.kill('SIGKILL');
    await sleep(DOWN_MS);
    const t0 = performance.now();
    const port = new URL(url).port;
    const second = start(['supervisor', '--listen', `127.0.0.1:${port}`, '--store', store], env, /listening/);
    procs.push(second);
    await second.up;
    const listening = performance.now() - t0;
    client = await ClusterClient.connect(url);
    let down: number | undefined;
    for (;;) {
      const app = (await client.status()).apps[0];
      const now = performance.now() - t0;
      if (app?.state === 'running') {
        down ??= app.window - before;
        if (app.window > before) {
          return { listening, resumed: now, down, adopted: /adopted at epoch/.test(second.stderr()) };
        }
      } else if (app !== undefined && app.state !== 'starting' && app.state !== 'recovering')
        throw new Error(`the application ended ${app.state}: ${app.error}`);
      if (now > 180_000) throw new Error('not resumed within 180 s');
      await sleep(20);
    }
  } finally {
    client?.close();
    if (process.env.SUPERVISOR_RESTART_LOG)
      for (const [i, p] of procs.entries())
        process.stderr.write(`--- ${['supervisor', 'a', 'b', 'new supervisor'][i]}\n${p.stderr()}`);
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

export const clusterSupervisorRestartSection: Section = {
  title: 'cluster supervisor restart: restarted → processing resumed (adopt running containers vs relaunch)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const rounds = o.quick ? 1 : Math.max(o.runs, 3);
    const times: Record<Mode, Times[]> = { adopt: [], relaunch: [] };
    for (let r = 0; r < rounds; r++) {
      const order: Mode[] = r % 2 === 0 ? ['adopt', 'relaunch'] : ['relaunch', 'adopt'];
      for (const mode of order) {
        o.progress(`cluster supervisor restart: round ${r + 1} of ${rounds}, ${mode}`);
        times[mode].push(await supervisorRestart(mode));
      }
    }
    const line = (mode: Mode, label: string) => {
      const t = times[mode];
      const listening = t.map((x) => x.listening);
      const resumed = t.map((x) => x.resumed);
      const after = resumed.map((x, i) => x - listening[i]!);
      const down = t.map((x) => x.down).join(', ');
      return `  ${label} listening ${secs(median(listening))} ${range(listening)}   resumed ${secs(median(resumed))} ${range(resumed)}   (after listening ${secs(median(after))} ${range(after)})   done window at resume − at kill: ${down}`;
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
      },
      wrong,
    };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--rounds');
  const report = await clusterSupervisorRestartSection.run({
    keys: 'typed',
    quick: process.argv.includes('--quick'),
    runs: i > 0 ? Number(process.argv[i + 1]) : 3,
    isolate: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${clusterSupervisorRestartSection.title}\n${report.lines.join('\n')}\n`);
  for (const w of report.wrong ?? []) process.stdout.write(`WRONG: ${w}\n`);
}
