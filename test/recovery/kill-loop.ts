import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Shared by the kill -9 loop tests: `sluice run` as a child process, its exit, a seeded generator. */
export const repoRoot = join(import.meta.dirname, '..', '..');

/**
 * `sluice run APP …`, in one thread (`--containers 0` after APP) unless the options before `--` name
 * `--containers`: these tests are about a process killed and relaunched, and each start of containers
 * would cost its worker start-ups (test/cli/run.test.ts checks the default).
 */
export function sluiceRun(args: string[], env: Record<string, string>): ChildProcess {
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const pinned = own.includes('--containers') ? args : [args[0]!, '--containers', '0', ...args.slice(1)];
  return spawn(process.execPath, ['src/cli/bin.js', 'run', ...pinned], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** A seeded generator, so a failing schedule of kills can be read from the log and tried again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** Starts `start()`, kills it with SIGKILL after `delayMs` unless it exits first; fails on a bad exit. */
async function killAfter(start: () => ChildProcess, delayMs: number): Promise<void> {
  const child = start();
  const done = exited(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  const r = await done;
  clearTimeout(timer);
  if (r.signal !== 'SIGKILL' && r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
}

/**
 * The lunch test's loop: `kills` runs of `start()`, each killed with SIGKILL after a seeded random delay
 * in [minMs, minMs + spanMs) (SLUICE_LUNCH_SEED replays a schedule), then one run to its end. Returns that
 * last exit and a line naming the seed and the delays, for the assertion messages.
 */
export async function killAndRelaunch(
  start: () => ChildProcess,
  o: { kills: number; minMs: number; spanMs: number },
): Promise<{ last: Awaited<ReturnType<typeof exited>>; context: string }> {
  const seed = Number(process.env.SLUICE_LUNCH_SEED ?? Date.now() % 100_000);
  const next = random(seed);
  const delays: number[] = [];
  for (let i = 0; i < o.kills; i++) {
    const delay = o.minMs + Math.floor(next() * o.spanMs);
    delays.push(delay);
    await killAfter(start, delay); // it may finish before the kill
  }
  const last = await exited(start());
  return { last, context: `seed ${seed}, kills after ${delays.join(', ')} ms\n${last.stderr}` };
}
