import { spawn } from 'node:child_process';
import { BenchError } from './section.ts';

/**
 * Runs `script` with `job` (as JSON, its one argument) in a fresh node process with this one's flags
 * (--expose-gc, --import tsx), so that it runs on a JIT that has seen no other application; resolves with
 * the JSON the child prints. The child's stderr passes through; its last lines name a failure.
 */
export function runInChild<R>(script: string, job: unknown, label: string): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
