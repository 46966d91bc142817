import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice, type TempDir, tempDir } from './cli-process.ts';

const app = (name: string, sumCode: string) => `import { application, Operator } from 'sluice';
import { ConsoleSink, SequenceSource } from 'sluice/actors';
class Sum extends Operator<{ sum: number }> {
  private transient = 0;
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => { ${sumCode} });
  initialState() { return { sum: 0 }; }
}
export default application('${name}', (dag) => {
  const src = dag.add('src', SequenceSource, { tuplesPerWindow: 5, batch: 2 });
  const sum = dag.add('sum', Sum);
  const print = dag.add('print', ConsoleSink<number>, {});
  dag.stream('numbers', src.out, sum.in);
  dag.stream('sums', sum.out, print.in);
});
`;

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  await tmp.write('durable.ts', app('durable', 'this.state.sum += n; this.out.emit(this.state.sum);'));
  await tmp.write('forgetful.ts', app('forgetful', 'this.transient += n; this.out.emit(this.transient);'));
});
afterAll(() => tmp.cleanup());

describe.concurrent('sluice chaos', { timeout: 30_000 }, () => {
  it('passes an application whose state is durable, and prints the seed', async () => {
    const r = await sluice(['chaos', 'durable.ts', '--runs', '25', '--seed', '3'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^ok: 25 fault schedules \(\d+ faults fired, \d+ runs restored from a checkpoint\)/m,
    );
    expect(r.stdout).toContain('seed 3');
    expect(r.stdout).not.toContain('[1]'); // the application's console output is kept out of the verdict
    // Progress on stderr: a line every tenth of the schedules (25 / 10 → every 3), and the last.
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('chaos: '));
    expect(
      progress.map((l) => l.match(/^chaos: (\d+)\/25 schedules, \d+ faults fired, \d+ runs restored/)?.[1]),
    ).toEqual(['3', '6', '9', '12', '15', '18', '21', '24', '25']);
    expect(r.stdout).not.toMatch(/^chaos: /m);
  });

  it('fails an application that keeps state outside this.state, with the seed and a replay command', async () => {
    const r = await sluice(['chaos', 'forgetful.ts', '--runs', '25', '--seed', '4'], tmp.dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED with seed 4: sink print, window \d+: (lost|unexpected|reordered)/);
    expect(r.stdout).toContain('replay: npx sluice chaos forgetful.ts --runs 25 --seed 4');
    expect(r.stderr).toMatch(
      /^chaos: schedule \d+\/25 failed; looking for the smallest schedule that fails$/m,
    );
  });

  it('refuses a --key that no tuple of the sinks carries (exit 2) instead of comparing nothing per key', async () => {
    const r = await sluice(['chaos', 'durable.ts', '--runs', '3', '--key', 'device'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--key, keyOf\) is undefined for every tuple .*; a tuple: \d+ \(SLUICE_INVALID_OPTION\)/,
    );
  });

  it('prints a replay command that, run as printed, finds the same counterexample', async () => {
    // Every flag away from its default: a replay line that dropped one would run other schedules.
    const flags = [
      '--runs',
      '15',
      '--seed',
      '7',
      '--windows',
      '9',
      '--checkpoint-every',
      '3',
      '--max-faults',
      '3',
    ];
    const first = await sluice(['chaos', 'forgetful.ts', ...flags], tmp.dir);
    expect(first.code, first.stderr).toBe(1);
    const replay = first.stdout.match(/^replay: npx sluice (.*)$/m)?.[1];
    expect(replay).toBe(`chaos forgetful.ts ${flags.join(' ')}`);
    const again = await sluice(replay!.split(' '), tmp.dir);
    expect(again.code, again.stderr).toBe(1);
    const verdict = (stdout: string) => stdout.slice(stdout.indexOf('FAILED'));
    expect(verdict(first.stdout)).toMatch(
      /^FAILED with seed 7: .*\n {2}smallest fault schedule: .+\nreplay: /,
    );
    expect(verdict(again.stdout)).toBe(verdict(first.stdout));
  });
});
