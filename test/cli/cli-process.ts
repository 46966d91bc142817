/** Runs `node src/cli/bin.js …` as a child process and collects what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repoRoot, 'src', 'cli', 'bin.js');

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SluiceProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<Exited>;
  /** Resolves once what the process printed on `stream` matches (rejects if it exits first). */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<void>;
}

export function startSluice(args: string[], cwd = repoRoot, env: NodeJS.ProcessEnv = {}): SluiceProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', SLUICE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const printed = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: () => void }[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.setEncoding('utf8').on('data', (s: string) => {
      printed[stream] += s;
      for (const w of waiters.filter((w) => w.stream === stream && w.pattern.test(printed[stream]))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  }
  const exited = new Promise<Exited>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, ...printed }));
  });
  return {
    child,
    get stdout() {
      return printed.stdout;
    },
    get stderr() {
      return printed.stderr;
    },
    exited,
    waitFor(stream, pattern) {
      if (pattern.test(printed[stream])) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ stream, pattern, resolve });
        void exited.then((e) =>
          reject(
            new Error(`sluice exited (${e.code}) before printing ${pattern} on ${stream}:\n${e.stderr}`),
          ),
        );
      });
    },
  };
}

export function sluice(args: string[], cwd = repoRoot, env: NodeJS.ProcessEnv = {}): Promise<Exited> {
  return startSluice(args, cwd, env).exited;
}

/** The lines of stderr that are the command's own error lines. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('sluice:'));
}

export interface TempDir {
  dir: string;
  /** Writes a file into the directory; resolves with its path. */
  write(name: string, text: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** A fresh directory outside the repository (no package.json, no node_modules), removed by `cleanup`. */
export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
  return {
    dir,
    async write(name, text) {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
