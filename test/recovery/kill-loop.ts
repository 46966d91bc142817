import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Shared by the kill -9 loop tests: `sluice run` as a child process, its exit, a seeded generator. */
export const repoRoot = join(import.meta.dirname, '..', '..');

export function sluiceRun(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['src/cli/bin.js', 'run', ...args], {
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
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** Starts `start()`, kills it with SIGKILL after `delayMs` unless it exits first; fails on a bad exit. */
export async function killAfter(start: () => ChildProcess, delayMs: number): Promise<void> {
  const child = start();
  const done = exited(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  const r = await done;
  clearTimeout(timer);
  if (r.signal !== 'SIGKILL' && r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
}
