import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causeStack, indent } from '../../src/cli/stack.ts';
import { OperatorFailure } from '../../src/index.ts';
import { type Exited, errorLines, repoRoot, type TempDir, tempDir } from './cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  await tmp.write(
    'fails.ts',
    `import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
class Picky extends Operator {
  readonly in = this.input<number>((n) => {
    throw new Error(\`cannot take \${n}\`);
  });
}
export default application('fails', (dag) => {
  const source = dag.add('source', SequenceSource, { tuplesPerWindow: 3 });
  const picky = dag.add('picky', Picky);
  dag.stream('numbers', source.out, picky.in);
});
`,
  );
  await tmp.write(
    'fails-once.ts',
    `import { application, Operator } from 'sluice';
import { SequenceSource } from 'sluice/actors';
let thrown = false;
class Once extends Operator {
  readonly in = this.input<number>(() => {
    if (thrown) return;
    thrown = true;
    throw new Error('boom once');
  });
}
export default application('fails-once', (dag) => {
  const source = dag.add('source', SequenceSource, { tuplesPerWindow: 3 });
  const once = dag.add('once', Once);
  dag.stream('numbers', source.out, once.in);
});
`,
  );
});
afterAll(() => tmp.cleanup());

/** `sluice ARGS` in the temp dir, at log level `level`. */
function sluiceAt(level: string, args: string[]): Promise<Exited> {
  const child = spawn(process.execPath, [join(repoRoot, 'src', 'cli', 'bin.js'), ...args], {
    cwd: tmp.dir,
    env: { ...process.env, NO_COLOR: '1', SLUICE_LOG_LEVEL: level },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const printed = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (printed.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (printed.stderr += s));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, ...printed })));
}

// Checkpointing off: the first failure escalates at once (nothing could be replayed).
const failing = (store: string, ...more: string[]) => [
  'run',
  'fails.ts',
  '--containers',
  '0',
  '--window-ms',
  '20',
  '--checkpoint-every',
  '0',
  '--store',
  store,
  ...more,
];

// Fails once, then is restarted and finishes.
const failingOnce = (store: string) => [
  'run',
  'fails-once.ts',
  '--containers',
  '0',
  '--windows',
  '3',
  '--window-ms',
  '20',
  '--store',
  store,
];

describe('an operator failure shows its cause stack, the operator frames first', { timeout: 20_000 }, () => {
  it('after the error line of the command', async () => {
    const r = await sluiceAt('info', failing('store-text'));
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    const at = lines.findIndex((l) => l.startsWith('sluice:'));
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(lines[at]).toMatch(/^sluice: run failed \(SLUICE_OPERATOR_FAILED\): operator "picky"/);
    expect(lines[at + 1]).toBe('    Error: cannot take 0');
    expect(lines[at + 2]).toMatch(/^ {6}at .*fails\.ts:5:\d+\)?$/);
    for (const l of lines.slice(at + 1)) expect(l).toMatch(/^ {4}/);
  });

  it('with --json: a stack field in the failure and failed entries, and no text stack', async () => {
    const r = await sluiceAt('info', failing('store-json', '--json'));
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    // Every line is JSON, the last (what the exit says) too.
    const entries = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(entries.at(-1)).toMatchObject({ event: 'exit', exitCode: 1, code: 'SLUICE_OPERATOR_FAILED' });
    expect(entries.at(-1)!.msg).toMatch(/^run failed \(SLUICE_OPERATOR_FAILED\)/);
    const failed = entries.find((e) => e.event === 'failed')!;
    expect(failed.error.code).toBe('SLUICE_OPERATOR_FAILED');
    expect(failed.error.stack).toMatch(/^Error: cannot take 0\n {4}at .*fails\.ts:5:\d+/);
    const failure = entries.find((e) => e.event === 'failure')!;
    expect(failure.stack).toBe(failed.error.stack);
  });

  it('for a failure that was restarted: at debug level only', async () => {
    const debug = await sluiceAt('debug', failingOnce('store-debug'));
    expect(debug.code, debug.stderr).toBe(0);
    expect(debug.stderr).toMatch(
      /ERROR: operator "once" \(once\) failed in window 1 during tuple: boom once\n {4}Error: boom once\n {6}at .*fails-once\.ts:8:\d+/,
    );
    const info = await sluiceAt('info', failingOnce('store-info'));
    expect(info.code, info.stderr).toBe(0);
    expect(info.stderr).toMatch(
      /ERROR: operator "once" \(once\) failed in window 1 during tuple: boom once\n/,
    );
    expect(info.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('causeStack', () => {
  it('is the cause chain of an operator failure, nothing for other errors or a thrown non-error', () => {
    const root = new TypeError('root');
    const cause = new Error('outer', { cause: root });
    const stack = causeStack(new OperatorFailure('a', 'op', 3, 'tuple', cause))!;
    expect(stack.startsWith(`${cause.stack}\ncaused by: ${root.stack}`)).toBe(true);
    expect(causeStack(new OperatorFailure('a', 'op', 3, 'tuple', 'a string'))).toBeUndefined();
    expect(causeStack(new Error('plain'))).toBeUndefined();
    const verdict = new OperatorFailure('a', 'op', 3, 'checkpoint', cause, { restartable: false });
    expect(causeStack(verdict)).toBeUndefined();
    expect(indent('Error: x\n    at f (a.ts:1:2)')).toBe('    Error: x\n      at f (a.ts:1:2)');
  });
});
