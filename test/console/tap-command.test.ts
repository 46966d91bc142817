/** `sluice tap` against a running `sluice run --console`, as a person would use them side by side. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SluiceProcess, sluice, startSluice, type TempDir, tempDir } from '../cli/cli-process.ts';

let tmp: TempDir;
let app: SluiceProcess;
let address: string;

/** `sluice run` of the max-cpu example with a console on a free port, and that console's address. */
async function runWithConsole(
  store: string,
  ...extra: string[]
): Promise<{ run: SluiceProcess; at: string }> {
  const args = ['run', 'examples/max-cpu/app.ts', '--store', join(tmp.dir, store), '--window-ms', '50'];
  const run = startSluice([...args, '--console', '127.0.0.1:0', ...extra]);
  await run.waitFor('stderr', /console at http:\/\/\S+\//);
  return { run, at: /console at http:\/\/(\S+)\//.exec(run.stderr)![1]! };
}

beforeAll(async () => {
  tmp = await tempDir();
  ({ run: app, at: address } = await runWithConsole('store', '--containers', '0'));
}, 60_000);

afterAll(async () => {
  app?.child.kill('SIGINT');
  await app?.exited;
  await tmp?.cleanup();
});

describe('sluice tap', () => {
  it('prints a sample of the tuples crossing a port as JSON lines, and stops at --limit', async () => {
    const r = await sluice([
      'tap',
      'examples/max-cpu/app.ts',
      '--port',
      'readings.out',
      '--console',
      address,
      '--limit',
      '5',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines)
      expect(JSON.parse(line)).toEqual({ device: expect.any(Number), cpu: expect.any(Number) });
    expect(r.stderr).toMatch(/tap on readings\.out \(4 channels\), at most 10 tuples\/s/);
  });

  it('refuses a port the application does not have (exit 2), and an application it is not running', async () => {
    const noPort = await sluice([
      'tap',
      'examples/max-cpu/app.ts',
      '--port',
      'max.nope',
      '--console',
      address,
    ]);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toMatch(/sluice: operator "max" has no connected port "nope"/);
    const other = await sluice(['tap', 'examples/hello/app.ts', '--port', 'x.out', '--console', address]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/runs "max-cpu", not "hello"/);
  });
});

describe('sluice tap to the end of a run', () => {
  it('exits 0 when the application stops (the console says it is going away), and refuses --sample over 1000', async () => {
    // The run stops once the tap has printed (a run of fixed length could end before a slow tap connects).
    const { run: short, at } = await runWithConsole('short', '--containers', '0');
    const tap = startSluice(['tap', 'examples/max-cpu/app.ts', '--port', 'readings.out', '--console', at]);
    await tap.waitFor('stdout', /\n/);
    short.child.kill('SIGINT');
    expect((await short.exited).code).toBe(0);
    const r = await tap.exited;
    expect(r.code, tap.stderr).toBe(0);
    expect(tap.stdout.trim().split('\n').length).toBeGreaterThan(0);
    const tooMany = await sluice([
      'tap',
      'examples/max-cpu/app.ts',
      '--port',
      'readings.out',
      '--console',
      address,
      '--sample',
      '5000',
    ]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/expected an integer from 1 to 1000/);
  }, 60_000);
});

describe('sluice run --containers 2 --console, and sluice tap on it', () => {
  it('serves the DAG with each actor in its container, live rates, and taps a port written in two workers', async () => {
    const { run: p, at } = await runWithConsole('containers', '--containers', '2');
    try {
      await p.waitFor('stderr', /started "max-cpu"/);
      // The max partitions are spread over both containers: a tap on max.out opens in both workers.
      let state: any;
      for (let i = 0; i < 200; i++) {
        state = await (await fetch(`http://${at}/api/state`)).json();
        if (state.snapshot.operators.find((o: any) => o.operator === 'readings').outPerSecond > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const containers = new Set(
        state.plan.actors.filter((a: any) => a.operator === 'max').map((a: any) => a.container),
      );
      expect(containers).toEqual(new Set([0, 1]));
      expect(
        state.snapshot.operators.find((o: any) => o.operator === 'readings').outPerSecond,
      ).toBeGreaterThan(0);
      const r = await sluice([
        'tap',
        'examples/max-cpu/app.ts',
        '--port',
        'max.out',
        '--console',
        at,
        '--limit',
        '6',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(6);
      for (const line of lines)
        expect(JSON.parse(line)).toEqual({ device: expect.any(Number), max: expect.any(Number) });
      expect(r.stderr).toMatch(/tap on max\.out \(4 channels\)/);
    } finally {
      p.child.kill('SIGINT');
      await p.exited;
    }
  }, 90_000);
});
