import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { applyFlags, ConfigError, machineDataConfig } from '../../examples/machine-data/config.ts';
import { exited, repoRoot, sluiceRun } from '../recovery/kill-loop.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-machine-data-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('machine-data settings as flags', () => {
  test('a flag overrides its environment variable and is written into it; unset ones keep theirs', () => {
    const env: NodeJS.ProcessEnv = { REDIS_URL: 'redis://127.0.0.1:1/1', PARTITIONS: '3', SEED: '9' };
    applyFlags(
      ['--redis-url', 'redis://127.0.0.1:2/2', '--partitions', '4', '--readings-stream=redis://h:3/0#r'],
      env,
    );
    expect(env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:2/2', PARTITIONS: '4', SEED: '9' });
    expect(machineDataConfig(env)).toMatchObject({
      redisUrl: 'redis://127.0.0.1:2/2',
      readingsStream: 'redis://h:3/0#r',
      partitions: 4,
      seed: 9,
      smtpUrl: undefined,
      applicationWindowCount: 10,
    });
  });

  test('no flags: the environment is left as it is', () => {
    const env: NodeJS.ProcessEnv = { PARTITIONS: '3' };
    expect(applyFlags([], env)).toEqual({ PARTITIONS: '3' });
  });

  test('a bad flag, value or variable is one ConfigError line naming it', () => {
    const bad = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      try {
        machineDataConfig(applyFlags(args, env));
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as Error).message).not.toContain('\n');
        return (e as Error).message;
      }
      throw new Error(`accepted: ${args.join(' ')} ${JSON.stringify(env)}`);
    };
    expect(bad(['--partitions', '0'])).toMatch(/'--partitions <n>' argument '0' is invalid.*integer ≥ 1/);
    expect(bad(['--smtp-url', 'redis://x'])).toMatch(/--smtp-url.*smtp:\/\/127\.0\.0\.1:2525/);
    expect(bad(['--hot-devices', '7;8'])).toMatch(/--hot-devices.*or none/);
    expect(bad(['--redis-urls', 'x'])).toBe(
      "machine-data: unknown option '--redis-urls' (Did you mean --redis-url?)",
    );
    expect(bad(['stray'])).toMatch(/stray|too many arguments/);
    expect(bad(['--help'])).toMatch(/^machine-data settings: --readings-stream <url>, --redis-url <url>, /);
    expect(bad([], { WINDOW_MS: '1e3' })).toBe('machine-data: WINDOW_MS=1e3: expected an integer ≥ 1');
  });
});

describe('flags through the commands', () => {
  test('sluice run APP -- FLAGS: the flags reach the application, on worker-thread containers too', async () => {
    const [out, envOut] = [join(dir, 'flags-out'), join(dir, 'env-out')];
    // --partitions 3 against the environment's 2: a container that loaded the module without the flags
    // would build another plan (and write to envOut).
    const args = ['examples/machine-data/app.ts', '--windows', '4', '--window-ms', '50'];
    args.push('--store', join(dir, 'store'), '--containers', '2', '--');
    args.push('--out', out, '--partitions', '3', '--readings-per-window', '100', '--app-window', '2');
    const r = await exited(sluiceRun(args, { MACHINE_DATA_OUT: envOut, PARTITIONS: '2' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('15 actors'); // 3 partitions of readings, dimensions and prereq
    expect(readdirSync(join(out, 'averages')).filter((f) => f.endsWith('.jsonl'))).toEqual([
      'window-000000002.jsonl',
      'window-000000004.jsonl',
    ]);
    expect(existsSync(envOut)).toBe(false);
  }, 90_000);

  test('--time-origin: the readings are stamped from that time, whenever the run starts', async () => {
    expect(machineDataConfig(applyFlags(['--time-origin', '2026-12-01T00:00:00Z'], {})).timeOriginMs).toBe(
      Date.UTC(2026, 11, 1),
    );
    expect(machineDataConfig({ TIME_ORIGIN: '86400000' }).timeOriginMs).toBe(86_400_000);
    expect(() => machineDataConfig({ TIME_ORIGIN: 'yesterday' })).toThrow(
      'machine-data: TIME_ORIGIN=yesterday: expected epoch milliseconds or an ISO date like 2026-12-01T00:00:00Z',
    );
    const out = join(dir, 'origin-out');
    const args = ['examples/machine-data/app.ts', '--windows', '4', '--window-ms', '50'];
    args.push('--store', join(dir, 'origin-store'), '--containers', '0', '--');
    args.push('--out', out, '--readings-per-window', '100', '--app-window', '2');
    args.push('--time-origin', '2026-12-01T00:00:00Z');
    const r = await exited(sluiceRun(args, {}));
    expect(r.code, r.stderr).toBe(0);
    const averages = readdirSync(join(out, 'averages')).filter((f) => f.endsWith('.jsonl'));
    const keys = averages.flatMap((f) =>
      readFileSync(join(out, 'averages', f), 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { key: string }).key.split('|').slice(1).join('|')),
    );
    // 2026-12-01 is day 20788 since the epoch; four windows of 50 ms from its midnight: minute 0.
    expect(new Set(keys)).toEqual(new Set(['day=20788|minute=0']));
  }, 90_000);

  test('sluice run APP -- a bad value: one line naming the flag, exit code 2, nothing run', async () => {
    const store = join(dir, 'bad-store');
    const args = ['examples/machine-data/app.ts', '--store', store, '--', '--partitions', 'two'];
    const r = await exited(sluiceRun(args, {}));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "sluice: cannot load examples/machine-data/app.ts: machine-data: option '--partitions <n>' argument 'two' is invalid. expected an integer ≥ 1",
    ]);
    expect(existsSync(store)).toBe(false);
  }, 60_000);

  test('npm start -- FLAGS (start.ts): a bad value is one line and exit code 2', async () => {
    const script = ['--conditions=sluice-source', '--import', 'tsx', 'examples/machine-data/start.ts'];
    const child = spawn(process.execPath, [...script, '--demo', '--smtp-url', 'mail.example.com'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const r = await exited(child);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "machine-data: option '--smtp-url <url>' argument 'mail.example.com' is invalid. expected a URL like smtp://127.0.0.1:2525",
    ]);
  }, 60_000);

  test('npm start -- --help (start.ts --fresh): prints the help and deletes nothing', async () => {
    const script = ['--conditions=sluice-source', '--import', 'tsx', 'examples/machine-data/start.ts'];
    const store = mkdtempSync(join(dir, 'kept-store-'));
    const child = spawn(process.execPath, [...script, '--demo', '--fresh', '30', store, '--help'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const r = await exited(child);
    expect(r.code).toBe(0);
    expect(stdout).toContain('--fresh');
    expect(existsSync(store)).toBe(true);
  }, 60_000);
});
