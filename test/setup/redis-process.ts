/**
 * A real `redis-server` as a child process on a free loopback port, for tests (no mocks). The vitest
 * globalSetup (redis-server.ts) starts one for the whole run; a test that must stop and restart Redis
 * ("Redis restarted mid-run") starts a private one with `startRedisProcess()` and brings it back with
 * `startRedisProcess({ port })`.
 *
 * Never `--daemonize`: nothing would reap it (it stays a zombie), and a test could not stop it. No RDB or
 * AOF files (`--save '' --appendonly no`): a restart is an empty Redis, as a lost cache node would be.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisProcess {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (append `/DB` for a database). */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s) and removes its directory (unless persistDir). */
  stop(): Promise<void>;
}

export interface RedisProcessOptions {
  /** Listen on this port (to bring a stopped server back on the same URL). Default: a free port. */
  port?: number;
  /** Databases (`--databases`); tests take one each. Default 16. */
  databases?: number;
  /**
   * Keep the data in this directory with an append-only file, so a restart on the same directory
   * finds it again (Redis restarted, not lost). Default: a fresh directory, nothing persisted.
   */
  persistDir?: string;
}

/** Thrown when no redis-server binary can be found: the Redis tests fail with this, they never skip. */
export class RedisServerMissingError extends Error {
  readonly code = 'SLUICE_TEST_NO_REDIS';
  constructor() {
    super(
      'redis-server not found (looked at $SLUICE_REDIS_SERVER if set, else /usr/bin, /usr/local/bin and the PATH). The Redis ' +
        'tests need a real one: run `bash .ci/install-system-deps` (apt-get install redis-server) and try again.',
    );
  }
}

export function redisServerBinary(): string {
  const chosen = process.env.SLUICE_REDIS_SERVER;
  if (chosen) {
    if (existsSync(chosen)) return chosen;
    throw new RedisServerMissingError();
  }
  for (const c of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (existsSync(c)) return c;
  try {
    const found = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on the PATH either
  }
  throw new RedisServerMissingError();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server and resolves once it accepts connections (its "Ready" line). */
export async function startRedisProcess(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  const binary = redisServerBinary();
  // A free port can be taken between the probe and the bind: try a few (a fixed port is not retried).
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await spawnRedis(binary, port, options.databases ?? 16, options.persistDir);
    } catch (e) {
      if (options.port !== undefined || attempt >= 5) throw e;
    }
  }
}

async function spawnRedis(
  binary: string,
  port: number,
  databases: number,
  persistDir: string | undefined,
): Promise<RedisProcess> {
  const dir = persistDir ?? mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  const aof = persistDir ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', ...aof];
  args.push('--dir', dir, '--databases', String(databases), '--loglevel', 'notice');
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server on port ${port}: not ready after 10 s\n${output}`)),
        10_000,
      );
      const onData = (d: Buffer) => {
        output += d;
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on port ${port} exited with ${code}\n${output}`));
      });
    });
  } catch (e) {
    await stopChild(child, exited);
    if (!persistDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // Keep draining its output (a full pipe would block it), but stop keeping it.
  child.stdout!.removeAllListeners('data').resume();
  child.stderr!.removeAllListeners('data').resume();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await stopChild(child, exited);
      if (!persistDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}
