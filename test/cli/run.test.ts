import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultContainers } from '../../src/index.ts';
import { errorLines, repoRoot, sluice, startSluice, type TempDir, tempDir } from './cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

const outsideApp = `
import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
import { canonical } from 'sluice/testkit';

class Print extends Operator {
  readonly in = this.input<number>((n) => {
    process.stdout.write(\`outside \${canonical({ n })}\\n\`);
  });
}

export default application('outside', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 2 });
  const print = dag.add('print', Print);
  dag.stream('numbers', numbers.out, print.in);
});
`;

/** An application printing one number a window with `prefix`; `stream` is what follows its stream. */
const printingApp = (name: string, prefix: string, stream = '') => `import { application } from 'sluice';
import { ConsoleSink, SequenceSource } from 'sluice/actors';
export default application('${name}', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 1 });
  const print = dag.add('print', ConsoleSink, { prefix: '${prefix}' });
  dag.stream('numbers', numbers.out, print.in)${stream};
});
`;

/** `sluice run` of the hello example in this thread, 20 ms windows, on `store`. */
const helloIn = (store: string) => [
  'run',
  'examples/hello/app.ts',
  '--containers',
  '0',
  '--window-ms',
  '20',
  '--store',
  store,
];

/** The JSON log entries of a `--json` run's stderr. */
const jsonLines = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('sluice run', { timeout: 15_000 }, () => {
  // On the default: worker-thread containers on a machine of 2 or more cores (their start takes seconds when loaded).
  it('runs the hello example for 5 windows and exits 0', { timeout: 60_000 }, async () => {
    const r = await sluice([
      'run',
      'examples/hello/app.ts',
      '--windows',
      '5',
      '--window-ms',
      '50',
      '--store',
      join(tmp.dir, 'hello'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hello [1] 0\n');
    expect(r.stdout).toContain('hello [5] 2304\n');
    expect(r.stderr).toMatch(/stopped after window 5, committed 5/);
    expect(errorLines(r.stderr)).toEqual([]);
  });

  it('runs a .ts application outside the repository that imports sluice, sluice/actors and sluice/testkit', async () => {
    await tmp.write('outside.ts', outsideApp);
    const r = await sluice(
      [
        'run',
        'outside.ts',
        '--containers',
        '0',
        '--windows',
        '2',
        '--window-ms',
        '20',
        '--store',
        'store-outside',
      ],
      tmp.dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'outside {"n":0}',
      'outside {"n":1}',
      'outside {"n":2}',
      'outside {"n":3}',
    ]);
  });

  it('runs a .js application outside the repository written with import/export default', async () => {
    await tmp.write('plain.js', printingApp('plain', 'js '));
    const r = await sluice(
      ['run', 'plain.js', '--containers', '0', '--windows', '2', '--window-ms', '20', '--json'],
      tmp.dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('js [1] 0\njs [2] 1\n');
    // --json: every stderr line is a JSON log entry; the default store is ./.sluice/<app name>
    const entries = jsonLines(r.stderr);
    expect(entries.find((e) => e.event === 'store').store).toBe(join(tmp.dir, '.sluice', 'plain'));
    expect(entries.find((e) => e.event === 'stopped')).toMatchObject({ window: 2, committed: 2 });
    expect(entries.at(-1)).toMatchObject({ event: 'exit', exitCode: 0 });
    // An option error under --json is a JSON line too (it comes before the command runs).
    const bad = await sluice(['run', 'plain.js', '--json', '--window-ms', '0'], tmp.dir);
    expect(bad.code).toBe(2);
    expect(jsonLines(bad.stderr)).toEqual([
      expect.objectContaining({
        event: 'exit',
        exitCode: 2,
        code: 'SLUICE_USAGE',
        msg: expect.stringMatching(/--window-ms/),
      }),
    ]);
    // So is one the command finds itself, once the application is planned (a drill naming no actor).
    const drill = await sluice(
      ['run', 'plain.js', '--json', '--containers', '0', '--fault', 'actor:zz@2'],
      tmp.dir,
    );
    expect(drill.code).toBe(2);
    expect(jsonLines(drill.stderr).at(-1)).toMatchObject({
      event: 'exit',
      exitCode: 2,
      code: 'SLUICE_USAGE',
      msg: expect.stringMatching(/no actor "zz"/),
    });
  });

  it('stops gracefully on SIGINT with a final checkpoint and exits 0', async () => {
    const p = startSluice(helloIn(join(tmp.dir, 'sigint')));
    await p.waitFor('stdout', /hello \[2\]/);
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(0);
    const stopped = /stopped after window (\d+), committed (\d+) \(stop requested\)/.exec(r.stderr);
    expect(stopped, r.stderr).not.toBeNull();
    expect(stopped![2]).toBe(stopped![1]);
    expect(errorLines(r.stderr)).toEqual([]);
  });

  it('stays up while a setup awaits only the stop signal, and a SIGINT ends it as a stop (exit 0)', async () => {
    // Nothing of Node's own is pending in this setup: the run itself must keep the process alive.
    await tmp.write(
      'waits.mjs',
      `import { application, InputOperator, Operator } from 'sluice';
class Numbers extends InputOperator {
  out = this.output();
  initialState() { return { n: 0 }; }
  emitTuples() { this.out.emit(this.state.n++); }
}
class Waits extends Operator {
  in = this.input(() => {});
  setup(ctx) {
    return new Promise((_, reject) => ctx.stopSignal.addEventListener('abort', () => reject(ctx.stopSignal.reason)));
  }
}
export default application('waits', (dag) => {
  const numbers = dag.add('numbers', Numbers);
  const waits = dag.add('waits', Waits);
  dag.stream('numbers', numbers.out, waits.in);
});
`,
    );
    const p = startSluice(
      ['run', 'waits.mjs', '--containers', '0', '--store', join(tmp.dir, 'waits-store'), '--json'],
      tmp.dir,
    );
    await p.waitFor('stderr', /"event":"started"/);
    await new Promise((r) => setTimeout(r, 1500)); // it exited after ~1 s with code 13 before
    expect(p.child.exitCode).toBeNull();
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(0);
    const entries = jsonLines(r.stderr);
    expect(entries.find((e) => e.event === 'warning')?.msg).toContain('setup of waits ended by the stop');
    expect(entries.find((e) => e.event === 'stopped')).toMatchObject({
      reason: 'stop',
      window: 0,
      committed: 0,
    });
    expect(entries.at(-1)).toMatchObject({ event: 'exit', exitCode: 0 });
  });

  it('hears a SIGINT while the application is still loading: the run stops after its first window, exit 0', async () => {
    await tmp.write(
      'late.ts',
      `import { application } from 'sluice';
import { ConsoleSink, SequenceSource } from 'sluice/actors';
process.stderr.write('loading late.ts\\n');
await new Promise((resolve) => setTimeout(resolve, 1500));
export default application('late', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 1 });
  const print = dag.add('print', ConsoleSink, { prefix: 'late' });
  dag.stream('numbers', numbers.out, print.in);
});
`,
    );
    const p = startSluice(
      ['run', 'late.ts', '--containers', '0', '--window-ms', '20', '--store', 'store-late'],
      tmp.dir,
    );
    await p.waitFor('stderr', /loading late\.ts/);
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/SIGINT: stopping/);
    expect(r.stderr, r.stderr).toMatch(/stopped after window \d+, committed \d+ \(stop requested\)/);
    expect(errorLines(r.stderr)).toEqual([]);
  });

  it('exits at once with 130 on a second SIGINT while stopping', async () => {
    await tmp.write(
      'slow.ts',
      `import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
class Slow extends Operator {
  readonly in = this.input<number>(() => {});
  override endWindow() {
    return new Promise<void>((resolve) => setTimeout(resolve, 500));
  }
}
export default application('slow', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 1 });
  const slow = dag.add('slow', Slow);
  dag.stream('numbers', numbers.out, slow.in);
});
`,
    );
    const p = startSluice(
      ['run', 'slow.ts', '--containers', '0', '--window-ms', '20', '--store', 'store-slow'],
      tmp.dir,
    );
    await p.waitFor('stderr', /started "slow"/);
    p.child.kill('SIGINT');
    await p.waitFor('stderr', /SIGINT: stopping/);
    p.child.kill('SIGINT');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT again: exiting without a final checkpoint/);
    expect(r.stderr).not.toMatch(/stopped after/);
  });

  it('refuses a store in use by another run (SLUICE_STORE_LOCKED); the first still stops with 0', async () => {
    const store = join(tmp.dir, 'locked');
    const hello = helloIn(store);
    const first = startSluice(hello);
    await first.waitFor('stderr', /started "hello"/);
    const second = await sluice(hello);
    expect(second.code).toBe(2);
    expect(errorLines(second.stderr)).toHaveLength(1);
    expect(errorLines(second.stderr)[0]).toMatch(/^sluice: store in use \(SLUICE_STORE_LOCKED\): .*locked/);
    first.child.kill('SIGINT');
    const r = await first.exited;
    expect(r.code, r.stderr).toBe(0);
  });

  it('refuses a store of a changed plan: says which actors changed and what the store committed', async () => {
    const planned = (partitions: number) => `import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
class Drop extends Operator {
  readonly in = this.input<number>(() => {});
}
export default application('replanned', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 2 });
  const drop = dag.add('drop', Drop, undefined, { partitions: ${partitions} });
  dag.stream('numbers', numbers.out, drop.in);
});
`;
    await tmp.write('one.ts', planned(1));
    await tmp.write('two.ts', planned(2));
    const store = join(tmp.dir, 'replanned');
    const first = await sluice(
      ['run', 'one.ts', '--containers', '0', '--window-ms', '5', '--windows', '3', '--store', store],
      tmp.dir,
    );
    expect(first.code, first.stderr).toBe(0);
    const r = await sluice(
      ['run', 'two.ts', '--containers', '0', '--window-ms', '5', '--store', store],
      tmp.dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('nothing was committed');
    expect(r.stderr).toMatch(/the run did not start; .*replanned is left as it was/);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toMatch(
      /^sluice: the store .*replanned holds checkpoints of a different plan \(of "replanned": actors added: drop#0, drop#1; actors removed: drop\); it committed windows up to 3, which stay there untouched; .*\(SLUICE_STORE_PLAN_MISMATCH\)$/,
    );
  });

  it('without --containers: as many containers as cores the plan can spread over (a thread-local chain: this thread); --replay-from buffers with --containers N refused', {
    timeout: 60_000,
  }, async () => {
    const hello = await import('../../examples/hello/app.ts');
    const expected = defaultContainers(hello.default, { module: 'hello.ts' });
    const run = (app: string, store: string) =>
      sluice(['run', app, '--windows', '2', '--window-ms', '20', '--json', '--store', store], tmp.dir);
    const containersOf = (stderr: string) =>
      jsonLines(stderr).find((e) => e.event === 'containers')?.containers;
    const spread = await run(join(repoRoot, 'examples/hello/app.ts'), 'store-default');
    expect(spread.code, spread.stderr).toBe(0);
    expect(containersOf(spread.stderr)).toBe(expected);
    expect(spread.stdout).toContain('hello [2] 144\n');
    await tmp.write('fused.ts', printingApp('fused', 'fused ', ".locality('thread')"));
    const fused = await run('fused.ts', 'store-fused');
    expect(fused.code, fused.stderr).toBe(0);
    expect(containersOf(fused.stderr)).toBe(0);
    const refused = await sluice(
      ['run', 'fused.ts', '--containers', '2', '--replay-from', 'buffers', '--store', 'store-refused'],
      tmp.dir,
    );
    expect(refused.code).toBe(2);
    expect(errorLines(refused.stderr)).toEqual([
      'sluice: --replay-from buffers cannot be used with --containers 2: on containers, streams across containers replay what they kept since the commit and the others recompute from the sources; use --containers 0 (this thread) for replay buffers',
    ]);
  });

  it('says that --heartbeat-timeout does nothing when every actor runs in this thread', async () => {
    const r = await sluice([
      ...helloIn(join(tmp.dir, 'heartbeat')), // --containers 0
      '--windows',
      '1',
      '--heartbeat-timeout',
      '3000',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--heartbeat-timeout has no effect: every actor runs in this thread');
    // Below the least a launch takes, refused as the flag's own error, with that least.
    const short = await sluice([...helloIn(join(tmp.dir, 'heartbeat')), '--heartbeat-timeout', '100']);
    expect(short.code).toBe(2);
    expect(errorLines(short.stderr).at(-1)).toContain(
      "argument '100' is invalid. expected an integer ≥ 200.",
    );
  });

  it('--lifecycle-timeout fails an operator whose endWindow never settles after that long, and the run recovers', async () => {
    await tmp.write(
      'stall.ts',
      `import { existsSync, writeFileSync } from 'node:fs';
import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
class Stall extends Operator {
  readonly in = this.input<number>(() => {});
  override endWindow(): void | Promise<void> {
    if (existsSync(process.env.STALL_MARKER!)) return;
    writeFileSync(process.env.STALL_MARKER!, 'stalled');
    return new Promise(() => {});
  }
}
export default application('stall', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 3 });
  const stall = dag.add('stall', Stall);
  dag.stream('numbers', numbers.out, stall.in);
}, { streamingWindowMs: 20, checkpointWindowCount: 2 });
`,
    );
    const r = await sluice(
      [
        'run',
        'stall.ts',
        '--containers',
        '0',
        '--windows',
        '4',
        '--store',
        'store-stall',
        '--lifecycle-timeout',
        '300',
      ],
      tmp.dir,
      { STALL_MARKER: join(tmp.dir, 'stalled') },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('endWindow did not finish within 300 ms');
    expect(r.stderr).toMatch(/stopped after window 4, committed 4/);
    const bad = await sluice(['run', 'stall.ts', '--lifecycle-timeout', 'soon'], tmp.dir);
    expect(bad.code).toBe(2);
  });

  it('relaunched on the same store, continues after the last committed window', async () => {
    const store = join(tmp.dir, 'relaunch');
    const args = helloIn(store);
    expect((await sluice([...args, '--windows', '2'])).code).toBe(0);
    const r = await sluice([...args, '--windows', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/first window 3 \(restored from the checkpoint of window 2\)/);
    expect(r.stdout.trim().split('\n')).toEqual([
      'hello [3] 400',
      'hello [3] 484',
      'hello [3] 576',
      'hello [3] 676',
      'hello [3] 784',
    ]);
    // --windows is a window id: at or before where the store is, nothing runs, and it says so.
    const none = await sluice([...args, '--windows', '2']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(
      /--windows 2 is at or before window 3, where this store already is: nothing to run \(--windows is the last window's id, not a count: --windows 5 runs 2 more\)/,
    );
    expect(none.stderr).not.toContain('first window 4');
  });
});
