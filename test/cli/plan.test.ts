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

describe.concurrent('sluice plan', { timeout: 60_000 }, () => {
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
      `\nnote: streams "numbers", "doubled": locality 'node' is planned as 'container' (a queued channel) in one thread; on containers it may cross between worker threads, where the placement allows (see sluice plan --containers N)\n`,
    );
    const plain = await sluice(['plan', 'fan-in.ts'], tmp.dir);
    expect(plain.stdout).not.toContain('note:');
    const json = JSON.parse((await sluice(['plan', 'node-local.ts', '--json'], tmp.dir)).stdout);
    expect(json.notes).toEqual([
      expect.stringMatching(/^streams "numbers", "doubled": locality 'node' is planned as 'container'/),
    ]);
  });

  it("--containers N names each actor's container and each channel's transport", async () => {
    const r = await sluice(['plan', 'fan-in.ts', '--containers', '2'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^plan of "fan-in": 7 actors, 6 channels \(1 fused\) on 2 containers \(\d+ channels? across containers\)\n/,
    );
    // The 4 partitions of source are spread 2 and 2; the thread-local double → print stays together.
    const containerOf = (id: string) =>
      Number(new RegExp(`^${id.replace('#', '\\#')}  .*, container (\\d+)$`, 'm').exec(r.stdout)?.[1]);
    expect([0, 1, 2, 3].map((i) => containerOf(`source#${i}`)).sort()).toEqual([0, 0, 1, 1]);
    expect(containerOf('print')).toBe(containerOf('double'));
    expect(r.stdout).toContain('  in ← double.out (#5 fused)\n');
    expect(r.stdout).toMatch(/\(#\d numbers, mailbox\)/);
    expect(r.stdout).toMatch(/\(#\d numbers, message-port\)/);
    expect(r.stdout).toMatch(/\ncontainers:\n {2}0: .+\n {2}1: .+\n/);
  });

  it('--containers leaves out the note on node locality: the placed plan shows where such streams cross', async () => {
    const r = await sluice(['plan', 'node-local.ts', '--containers', '3'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('note:');
    expect(r.stdout).toContain('on 3 containers');
  });

  it('takes --containers 0 as sluice run does (this thread), and refuses more than the plan can use', async () => {
    const zero = await sluice(['plan', 'fan-in.ts', '--containers', '0'], tmp.dir);
    const none = await sluice(['plan', 'fan-in.ts'], tmp.dir);
    expect(zero.code, zero.stderr).toBe(0);
    expect(zero.stdout).toBe(none.stdout);
    // As sluice run refuses it: plan printed a line per empty container, or failed on a huge count.
    for (const n of ['100000', '99999999999999']) {
      const r = await sluice(['plan', 'fan-in.ts', '--containers', n], tmp.dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^sluice: ${n} containers is more than this plan can use`));
    }
  });

  it('--json --containers N adds "container" to every actor and "transport" to every channel', async () => {
    const r = await sluice(['plan', 'fan-in.ts', '--json', '--containers', '2'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    for (const a of plan.actors) expect([0, 1]).toContain(a.container);
    const containerOf = new Map(
      plan.actors.map((a: { id: string; container: number }) => [a.id, a.container]),
    );
    for (const c of plan.channels) {
      const same = containerOf.get(c.from.actor) === containerOf.get(c.to.actor);
      expect(c.transport).toBe(c.fused ? 'fused' : same ? 'mailbox' : 'message-port');
    }
    expect(new Set(plan.channels.map((c: { transport: string }) => c.transport))).toEqual(
      new Set(['fused', 'mailbox', 'message-port']),
    );
    const unplaced = JSON.parse((await sluice(['plan', 'fan-in.ts', '--json'], tmp.dir)).stdout);
    expect(unplaced.actors.every((a: { container: number }) => a.container === 0)).toBe(true);
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
