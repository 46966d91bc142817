import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice, type TempDir, tempDir } from './cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  await tmp.write(
    'fan-in.ts',
    `import { application } from 'sluice';
import { ConsoleSink, MapOperator, SequenceSource } from 'sluice/actors';
export default application('fan-in', (dag) => {
  const source = dag.add('source', SequenceSource, {}, { partitions: 4 });
  const double = dag.add('double', MapOperator<number, number>, { fn: (n) => 2 * n });
  const print = dag.add('print', ConsoleSink<number>, {});
  dag.stream('numbers', source.out, double.in);
  dag.stream('doubled', double.out, print.in).locality('thread');
});
`,
  );
  await tmp.write(
    'node-local.ts',
    `import { application } from 'sluice';
import { ConsoleSink, MapOperator, SequenceSource } from 'sluice/actors';
export default application('node-local', (dag) => {
  const source = dag.add('source', SequenceSource, {});
  const double = dag.add('double', MapOperator<number, number>, { fn: (n) => 2 * n });
  const print = dag.add('print', ConsoleSink<number>, {});
  dag.stream('numbers', source.out, double.in).locality('node');
  dag.stream('doubled', double.out, print.in).locality('node');
});
`,
  );
});
afterAll(() => tmp.cleanup());

describe.concurrent('sluice plan', { timeout: 15_000 }, () => {
  it('shows the unifier that merges 4 partitions into one downstream, and the fused channel', async () => {
    const r = await sluice(['plan', 'fan-in.ts'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^plan of "fan-in": 7 actors, 6 channels \(1 fused\)/);
    expect(r.stdout).toContain('source#3  input operator SequenceSource, partition 3 of 4\n');
    expect(r.stdout).toContain('numbers:unifier  unifier PassThroughUnifier of "source"\n');
    expect(r.stdout).toContain(
      '  in ← source#0.out (#0), source#1.out (#1), source#2.out (#2), source#3.out (#3)\n',
    );
    expect(r.stdout).toMatch(
      /unifier layers:\n {2}numbers: 4 partitions of "source" → double through 1 layer/,
    );
    expect(r.stdout).toMatch(/fused channels.*\n {2}#\d+ doubled: double\.out → print\.in/);
  });

  it("says that 'node' locality is planned as 'container', naming the streams", async () => {
    const r = await sluice(['plan', 'node-local.ts'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^plan of "node-local": 3 actors, 2 channels \(0 fused\)/);
    expect(r.stdout).toContain(
      `\nnote: streams "numbers", "doubled": locality 'node' is planned as 'container' (a queued channel in this process); worker-thread containers are not built yet\n`,
    );
    const plain = await sluice(['plan', 'fan-in.ts'], tmp.dir);
    expect(plain.stdout).not.toContain('note:');
  });

  it('--json prints the plan as JSON', async () => {
    const r = await sluice(['plan', 'fan-in.ts', '--json'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.actors.map((a: { id: string }) => a.id)).toEqual([
      'source#0',
      'source#1',
      'source#2',
      'source#3',
      'numbers:unifier',
      'double',
      'print',
    ]);
    expect(plan.unifierTrees).toEqual([
      {
        operator: 'source',
        stream: 'numbers',
        downstream: 'double',
        root: 'numbers:unifier',
        partitions: 4,
        layers: [['numbers:unifier']],
      },
    ]);
  });
});
