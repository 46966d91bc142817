import { spawn } from 'node:child_process';
import { BenchError } from './section.ts';

/**
 * `--pin-cpu N`: runs of one-thread jobs go to CPU N only (Linux `taskset`). Why: on the shared 2-core
 * machines the two CPUs are not equally fast (the same hand loop, pinned: ~2,250 ms on CPU 0, ~1,450–1,750
 * on CPU 1, 2026-12-04), so an unpinned run's time depends on where the scheduler puts it, and two
 * variants compared in one round may have run on different CPUs. Pinned, every variant runs where the
 * others did (its GC and store threads on that CPU too). Runs that use several cores (containers) are
 * never pinned.
 */
export const pin: { cpu?: number } = {};

/**
 * Runs `script` with `job` (as JSON, its one argument) in a fresh node process with this one's flags
 * (--expose-gc, --import tsx), so that it runs on a JIT that has seen no other application; resolves with
 * the JSON the child prints. The child's stderr passes through; its last lines name a failure.
 * `oneThread`: the job runs in one thread (pinned with `--pin-cpu`).
 */
export function runInChild<R>(script: string, job: unknown, label: string, oneThread = false): Promise<R> {
  return new Promise((resolve, reject) => {
    const args = [...process.execArgv, script, JSON.stringify(job)];
    const pinned = oneThread && pin.cpu !== undefined;
    const child = pinned
      ? spawn('taskset', ['-c', String(pin.cpu), process.execPath, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      process.stderr.write(d);
      err = (err + d).slice(-4096);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as R);
      else {
        const tail = err.trim().split('\n').slice(-3).join(' / ');
        reject(new BenchError(`${label} exited with ${code}${tail ? `: ${tail}` : ''}`));
      }
    });
  });
}
