import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, sluice, type TempDir, tempDir } from './cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  await tmp.write(
    'syntax.ts',
    "import { application } from 'sluice';\nexport default application('x', (dag) => {\n  const a = ;\n});\n",
  );
  await tmp.write('no-default.ts', "export const app = 'nothing here';\n");
  await tmp.write('not-an-app.ts', 'export default { name: 42 };\n');
  await tmp.write(
    'bad-props.ts',
    `import { application } from 'sluice';
import { RedisStreamReadings } from 'sluice/actors';
export default application('bad-props', (dag) => {
  dag.add('readings', RedisStreamReadings, { url: 'redis://127.0.0.1:6379/0' });
});
`,
  );
  await tmp.write('throws-on-load.ts', "throw new Error('no config found');\nexport default 1;\n");
  // Wires its DAG once, then throws: the command builds it twice (to check it, then in launch()).
  await tmp.write(
    'builds-once.ts',
    `import { application } from 'sluice';
import { ConsoleSink, SequenceSource } from 'sluice/actors';
let builds = 0;
export default application('builds-once', (dag) => {
  if (++builds > 1) throw new Error('no second build');
  const source = dag.add('source', SequenceSource);
  const sink = dag.add('sink', ConsoleSink);
  dag.stream('numbers', source.out, sink.in);
});
`,
  );
  await tmp.write(
    'cycle.ts',
    `import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
class Merge extends Operator {
  readonly a = this.input<number>((t) => this.out.emit(t));
  readonly b = this.input<number>((t) => this.out.emit(t));
  readonly out = this.output<number>();
}
class Pass extends Operator {
  readonly in = this.input<number>((t) => this.out.emit(t));
  readonly out = this.output<number>();
}
export default application('cycle', (dag) => {
  const source = dag.add('source', SequenceSource);
  const merge = dag.add('merge', Merge);
  const pass = dag.add('pass', Pass);
  dag.stream('in', source.out, merge.a);
  dag.stream('forth', merge.out, pass.in);
  dag.stream('back', pass.out, merge.b);
});
`,
  );
  await tmp.write(
    'always-fails.ts',
    `import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
class Picky extends Operator {
  readonly in = this.input<number>((n) => {
    throw new Error(\`cannot take \${n}\`);
  });
}
export default application('always-fails', (dag) => {
  const source = dag.add('source', SequenceSource, { tuplesPerWindow: 3 });
  const picky = dag.add('picky', Picky);
  dag.stream('numbers', source.out, picky.in);
});
`,
  );
});
afterAll(() => tmp.cleanup());

/** Runs `sluice run APP` in the temp dir; expects nothing on stderr but one `sluice:` line. */
async function badRun(app: string, ...options: string[]): Promise<{ code: number | null; line: string }> {
  const r = await sluice(
    ['run', app, '--containers', '0', '--store', join(tmp.dir, `store-${app}`), ...options],
    tmp.dir,
  );
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(errorLines(r.stderr)).toHaveLength(1);
  return { code: r.code, line: errorLines(r.stderr)[0]! };
}

describe('sluice run: bad input is one line and exit 2', { timeout: 15_000 }, () => {
  it('no such file', async () => {
    const r = await badRun('missing.ts');
    expect(r).toMatchObject({ code: 2, line: expect.stringMatching(/^sluice: no such file: missing\.ts/) });
  });

  it('a syntax error, with its location', async () => {
    const r = await badRun('syntax.ts');
    expect(r.code).toBe(2);
    expect(r.line).toMatch(
      /^sluice: cannot load syntax\.ts: syntax error: .*syntax\.ts:3:12: Unexpected ";"$/,
    );
  });

  it('a module that throws while loading', async () => {
    const r = await badRun('throws-on-load.ts');
    expect(r).toEqual({ code: 2, line: 'sluice: cannot load throws-on-load.ts: no config found' });
  });

  it('no default export', async () => {
    const r = await badRun('no-default.ts');
    expect(r.code).toBe(2);
    expect(r.line).toMatch(/^sluice: no-default\.ts has no default export/);
  });

  it('a default export that is not an application', async () => {
    const r = await badRun('not-an-app.ts');
    expect(r.code).toBe(2);
    expect(r.line).toMatch(/^sluice: the default export of not-an-app\.ts is not an application/);
  });

  it('a DAG that only the second build refuses is reported as the first would be', async () => {
    const r = await badRun('builds-once.ts');
    expect([r.code, r.line]).toEqual([2, 'sluice: cannot build the DAG of builds-once.ts: no second build']);
  });

  it("an operator's constructor refusing its props: bad input, with its code, for run and plan", async () => {
    const r = await badRun('bad-props.ts');
    expect(r.code).toBe(2);
    expect(r.line).toMatch(
      /^sluice: cannot build the DAG of bad-props\.ts: .*no stream.*\(SLUICE_REDIS_CONFIG\)$/,
    );
    const plan = await sluice(['plan', 'bad-props.ts'], tmp.dir);
    expect(plan.code).toBe(2);
  });

  it('an invalid DAG, with its code', async () => {
    const r = await badRun('cycle.ts');
    expect(r.code).toBe(2);
    expect(r.line).toMatch(/^sluice: invalid DAG \(SLUICE_CYCLE\): .*cycle/);
  });

  it.each([
    ['--windows', 'abc', /^sluice: option '--windows <n>' argument 'abc' is invalid/],
    ['--windows', '0', /^sluice: option '--windows <n>' argument '0' is invalid/],
    ['--window-ms', '0', /^sluice: option '--window-ms <ms>' argument '0' is invalid/],
    ['--checkpoint-every', '-1', /^sluice: option '--checkpoint-every <n>' argument '-1' is invalid/],
    ['--checkpoint-every', '2.5', /argument '2.5' is invalid. expected an integer ≥ 0/],
    ['--windows', '1.5', /argument '1.5' is invalid. expected an integer ≥ 1/],
    ['--windows', '1e3', /argument '1e3' is invalid/],
    ['--window-ms', '0.001', /argument '0.001' is invalid. expected a number of milliseconds ≥ 1/],
    ['--window-ms', '-5', /argument '-5' is invalid/],
    ['--window-ms', 'NaN', /argument 'NaN' is invalid/],
    ['--window-ms', 'Infinity', /argument 'Infinity' is invalid/],
  ])('an invalid option value: %s %s', async (option, value, message) => {
    const r = await badRun('cycle.ts', option, value);
    expect(r.code).toBe(2);
    expect(r.line).toMatch(message);
  });

  it.each([
    ['--runs', '2.5'],
    ['--runs', '0'],
    ['--seed', '-1'],
    ['--seed', '99999999999999999999'],
    ['--windows', 'NaN'],
    ['--checkpoint-every', '0.5'],
    ['--max-faults', '-1'],
  ])('an invalid chaos option value: %s %s', async (option, value) => {
    const r = await sluice(['chaos', 'cycle.ts', option, value], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^sluice: option '${option} <\\w+>' argument '${value}' is invalid`));
  });

  it('a SLUICE_LOG_LEVEL that is not a level, naming the levels', async () => {
    const r = await sluice(['run', 'cycle.ts'], tmp.dir, { SLUICE_LOG_LEVEL: 'verbose' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sluice: SLUICE_LOG_LEVEL=verbose is not a log level: use one of trace, debug, info, warn, error, fatal, silent\n',
    );
  });

  it('sluice launch of a module that does not exist, before asking a supervisor', async () => {
    const r = await sluice(['launch', 'nowhere.ts', '--cluster', 'ws://127.0.0.1:1'], tmp.dir);
    expect([r.code, r.stderr]).toEqual([
      2,
      `sluice: no application module at ${join(tmp.dir, 'nowhere.ts')}\n`,
    ]);
  });

  it('an unknown command', async () => {
    const r = await sluice(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("sluice: unknown command 'frobnicate'\n");
  });
});

describe('sluice run: a failing operator', () => {
  it('escalates after the restarts: exit 1 and a line naming the operator and window', async () => {
    const r = await sluice(
      ['run', 'always-fails.ts', '--containers', '0', '--window-ms', '20', '--store', 'store-fails'],
      tmp.dir,
    );
    expect(r.code, r.stderr).toBe(1);
    const lines = errorLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^sluice: run failed \(SLUICE_OPERATOR_FAILED\): operator "picky" \(picky\) failed in window 1 during tuple: cannot take 0; not restarted: more than 5 restarts within 60000 ms$/,
    );
    expect(r.stderr).toMatch(/restart #1 in \d+ ms: picky from the checkpoint of window 0/);
    // The cause's stack follows the line, the operator's frame (where it threw) first.
    const after = r.stderr.slice(r.stderr.indexOf(lines[0]!) + lines[0]!.length + 1).split('\n');
    expect(after[0]).toBe('    Error: cannot take 0');
    expect(after[1]).toMatch(/^ {6}at .*always-fails\.ts:5:\d+\)?$/);
  }, 15_000);
});

describe('sluice supervisor: options it cannot work with get one line before anything opens', () => {
  it.each([
    [['--standby'], 2, /^sluice: --standby needs --lease/],
    [['--lease', 'http://x'], 2, /^sluice: --lease http:\/\/x: expected redis:\/\/HOST:PORT/],
  ])('%j', async (extra, code, line) => {
    const r = await sluice(
      ['supervisor', '--listen', '127.0.0.1:0', '--store', join(tmp.dir, 'sup'), ...extra],
      tmp.dir,
    );
    expect(r.code).toBe(code);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toMatch(line);
  });

  it('refuses a store that is a file, or empty', async () => {
    const file = await tmp.write('a-file', 'not a directory');
    for (const store of [file, '']) {
      const r = await sluice(['supervisor', '--listen', '127.0.0.1:0', '--store', store], tmp.dir);
      expect(r.code).toBe(2);
      expect(errorLines(r.stderr)[0]).toMatch(/^sluice: --store /);
    }
  });

  it('a secret file that is missing or too short is bad input (exit 2), for a supervisor and a node', async () => {
    const short = await tmp.write('short-secret', 'short');
    for (const args of [
      [
        'supervisor',
        '--listen',
        '127.0.0.1:0',
        '--store',
        join(tmp.dir, 'sup'),
        '--secret-file',
        'no-such-file',
      ],
      ['node', '--join', 'ws://127.0.0.1:1', '--secret-file', short],
    ]) {
      const r = await sluice(args, tmp.dir);
      expect(r.code, r.stderr).toBe(2);
      expect(errorLines(r.stderr)[0]).toMatch(/^sluice: .*cluster secret.*\(SLUICE_CLUSTER_SECRET\)$/);
    }
  });

  it("says once that the lease's Redis does not answer (no ioredis reconnect noise)", async () => {
    const r = await sluice(
      [
        'supervisor',
        '--listen',
        '127.0.0.1:0',
        '--store',
        join(tmp.dir, 'sup'),
        '--lease',
        'redis://:pw@127.0.0.1:1',
      ],
      tmp.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^sluice: cannot reach the lease's Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(ECONNREFUSED\).*\(SLUICE_LEASE_UNREACHABLE\)$/,
      ),
    ]);
  });
});
