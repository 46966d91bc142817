import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSink, MapOperator, SequenceSource } from '../../actors/index.ts';
import { actorDrills, collectDrill, containerDrills, parseDrill } from '../../src/cli/drills.ts';
import { CliError } from '../../src/cli/errors.ts';
import { application, planPhysical } from '../../src/index.ts';
import { errorLines, sluice, type TempDir, tempDir } from './cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  // Windows of 3 tuples per source partition, emitted in one call: the boundaries are the same in every
  // run, so the window files of two runs can be compared whole.
  await tmp.write(
    'drill.ts',
    `import { application } from 'sluice';
import { FileSink, MapOperator, SequenceSource } from 'sluice/actors';
export default application('drill', (dag) => {
  const source = dag.add('source', SequenceSource, { tuplesPerWindow: 3 }, { partitions: 2 });
  const double = dag.add('double', MapOperator<number, number>, { fn: (n) => 2 * n });
  const sink = dag.add('files', FileSink<number>, { dir: process.env.DRILL_OUT! });
  dag.stream('numbers', source.out, double.in);
  dag.stream('doubled', double.out, sink.in);
}, { streamingWindowMs: 20, checkpointWindowCount: 2 });
`,
  );
});
afterAll(() => tmp.cleanup());

async function windowFiles(dir: string): Promise<Map<string, string>> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort();
  return new Map(
    await Promise.all(files.map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)),
  );
}

describe('--fault drills: parsing', () => {
  it('reads actor:ID@W (ids with #, :, [ and .) and container:N@W, in order', () => {
    expect(parseDrill('actor:count#1@5')).toEqual({ kind: 'actor', actor: 'count#1', window: 5 });
    expect(parseDrill('actor:numbers:unifier[0.1]@12')).toEqual({
      kind: 'actor',
      actor: 'numbers:unifier[0.1]',
      window: 12,
    });
    expect(parseDrill('container:2@7')).toEqual({ kind: 'container', container: 2, window: 7 });
    expect(collectDrill('container:0@3', collectDrill('actor:a@1'))).toEqual([
      { kind: 'actor', actor: 'a', window: 1 },
      { kind: 'container', container: 0, window: 3 },
    ]);
  });

  it('keeps one of a drill given twice: it names one moment', () => {
    const twice = collectDrill('container:1@4', collectDrill('container:1@4', collectDrill('actor:a@1')));
    expect(twice).toEqual([
      { kind: 'actor', actor: 'a', window: 1 },
      { kind: 'container', container: 1, window: 4 },
    ]);
  });

  it.each([
    'actor:x',
    'actor:@3',
    'actor:x@0',
    'actor:x@-1',
    'actor:x@2.5',
    'container:a@3',
    'node:1@3',
    'x@3',
  ])('refuses %s as a usage error', (value) => {
    expect(() => parseDrill(value)).toThrow(InvalidArgumentError);
  });

  it('passes container kills on for a run on containers, and refuses one past the last container', () => {
    const drills = [parseDrill('container:1@4'), parseDrill('actor:a@2'), parseDrill('container:0@6')];
    expect(containerDrills(drills, 2)).toEqual([
      { container: 1, window: 4 },
      { container: 0, window: 6 },
    ]);
    expect(() => containerDrills(drills, undefined)).toThrow(CliError);
    expect(() => containerDrills([parseDrill('container:3@4')], 3)).toThrow(/no container 3 .*\(0 to 2\)/);
    expect(containerDrills([parseDrill('actor:a@2')], undefined)).toEqual([]);
    // One container is a run on containers too; a container that hosts no actor never reaches a window.
    expect(containerDrills([parseDrill('container:0@4')], 1)).toEqual([{ container: 0, window: 4 }]);
    expect(() => containerDrills([parseDrill('container:2@4')], 3, new Set([0, 1]))).toThrow(
      /container 2 hosts no actors/,
    );
  });
});

// One process after another: on a loaded machine, each spawn gets the time it needs.
describe('sluice run --fault', { timeout: 60_000 }, () => {
  it('fails the named actors at their windows, recovers, and writes the same window files as an undisturbed run', async () => {
    const calm = join(tmp.dir, 'calm');
    const drilled = join(tmp.dir, 'drilled');
    const [a, b] = await Promise.all([
      sluice(['run', 'drill.ts', '--containers', '0', '--windows', '8', '--store', 'store-calm'], tmp.dir, {
        DRILL_OUT: calm,
      }),
      sluice(
        [
          'run',
          'drill.ts',
          '--containers',
          '0',
          '--windows',
          '8',
          '--store',
          'store-drilled',
          '--fault',
          'actor:double@5',
          '--fault',
          'actor:numbers:unifier@3',
        ],
        tmp.dir,
        { DRILL_OUT: drilled },
      ),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain('injected fault: double throws in beginWindow of window 5');
    expect(b.stderr).toContain('injected fault: numbers:unifier throws in beginWindow of window 3');
    expect(b.stderr.match(/recovered /g)).toHaveLength(2);
    // The recovery set (the failed actor and what is downstream), then the actors rebuilt to recompute.
    expect(b.stderr).toMatch(
      /restart #\d+ in \d+ ms: double, files from the checkpoint of window \d+; rebuilt to recompute: /,
    );
    // When the container kill lands during that recovery, one recovery covers both recovery sets.
    expect(b.stderr).toMatch(/recovered (?:[^\n]*, )?double, files from window \d+ in \d+ ms/);
    expect(a.stderr).not.toContain('injected fault');
    const expected = await windowFiles(calm);
    expect(expected.size).toBe(8);
    expect(await windowFiles(drilled)).toEqual(expected);
  });

  it('on 2 containers: an actor drill and a container kill, and the window files of a run in one thread', {
    timeout: 180_000,
  }, async () => {
    const calm = join(tmp.dir, 'calm-1');
    const drilled = join(tmp.dir, 'drilled-2');
    const args = ['run', 'drill.ts', '--windows', '8'];
    const [a, b] = await Promise.all([
      sluice([...args, '--containers', '0', '--store', 'store-calm-1'], tmp.dir, { DRILL_OUT: calm }),
      sluice(
        [
          ...args,
          '--store',
          'store-drilled-2',
          '--containers',
          '2',
          '--fault',
          'actor:double@5',
          '--fault',
          'container:1@3',
        ],
        tmp.dir,
        { DRILL_OUT: drilled },
      ),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain('injected fault: double throws in beginWindow of window 5');
    expect(b.stderr).toContain('killed by the drill container:1@3');
    // The actor drill's lines read as in one thread (the test above): the same recovery set.
    expect(b.stderr).toMatch(/restart #\d+ in \d+ ms: double, files from the checkpoint of window \d+/);
    // When the container kill lands during that recovery, one recovery covers both recovery sets.
    expect(b.stderr).toMatch(/recovered (?:[^\n]*, )?double, files from window \d+ in \d+ ms/);
    expect(b.stderr).not.toContain('did not fire');
    const expected = await windowFiles(calm);
    expect(expected.size).toBe(8);
    expect(await windowFiles(drilled)).toEqual(expected);
  });

  it('warns about a drill whose window the run never started', async () => {
    const r = await sluice(
      [
        'run',
        'drill.ts',
        '--containers',
        '0',
        '--windows',
        '3',
        '--store',
        'store-late',
        '--fault',
        'actor:source#1@9',
      ],
      tmp.dir,
      { DRILL_OUT: join(tmp.dir, 'late') },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--fault actor:source#1@9 did not fire: this run did not start window 9');
  });

  it('warns about a container drill that never fired, and not about one that did', async () => {
    const r = await sluice(
      [
        'run',
        'drill.ts',
        '--containers',
        '2',
        '--windows',
        '4',
        '--store',
        'store-late-container',
        '--fault',
        'container:1@9',
        '--fault',
        'container:0@2',
      ],
      tmp.dir,
      { DRILL_OUT: join(tmp.dir, 'late-container') },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--fault container:1@9 did not fire: this run did not start window 9');
    expect(r.stderr).not.toContain('--fault container:0@2 did not fire');
  });

  it('an actor drill right after a container drill on its container is either recovered from or reported as lost, never silent', async () => {
    // The kill lands while the worker is on the next window: the actor drill may go off in the dying worker.
    const r = await sluice(
      [
        'run',
        'drill.ts',
        '--containers',
        '2',
        '--windows',
        '8',
        '--store',
        'store-drill-after-kill',
        '--fault',
        'container:0@3',
        '--fault',
        'actor:double@4',
      ],
      tmp.dir,
      { DRILL_OUT: join(tmp.dir, 'drill-after-kill') },
    );
    expect(r.code, r.stderr).toBe(0);
    const recovered = r.stderr.includes('operator "double" (double) failed in window 4');
    const lost = r.stderr.includes('--fault actor:double@4 went off, but its failure was never reported');
    expect(recovered || lost, r.stderr).toBe(true);
    expect(recovered && lost).toBe(false);
  });

  it('refuses an actor the plan does not have, naming the actors, before anything runs', async () => {
    const r = await sluice(
      ['run', 'drill.ts', '--containers', '0', '--store', 'store-typo', '--fault', 'actor:dobule@2'],
      tmp.dir,
      {
        DRILL_OUT: join(tmp.dir, 'typo'),
      },
    );
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      'sluice: --fault actor:dobule@2: no actor "dobule" in the plan (actors: source#0, source#1, numbers:unifier, double, files; see sluice plan)',
    ]);
    await expect(readdir(join(tmp.dir, 'store-typo'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses an actor drill at a window where the actor begins none (application windows), naming the ones it does', () => {
    const plan = planPhysical(
      application('app-windows', (dag) => {
        const source = dag.add('source', SequenceSource, { tuplesPerWindow: 3 });
        const sums = dag.add(
          'sums',
          MapOperator<number, number>,
          { fn: (n) => n },
          { applicationWindowCount: 3 },
        );
        const sink = dag.add('files', FileSink<number>, { dir: 'unused' }, { applicationWindowCount: 3 });
        dag.stream('numbers', source.out, sums.in);
        dag.stream('summed', sums.out, sink.in);
      }).dag(),
    );
    expect(() => actorDrills([parseDrill('actor:sums@5')], plan)).toThrow(
      new CliError(
        '--fault actor:sums@5: sums has application windows of 3 (it begins windows 1, 4, 7, …), so it never begins window 5: use actor:sums@4 or @7',
      ),
    );
    expect(actorDrills([parseDrill('actor:sums@4'), parseDrill('actor:source@5')], plan)).toBeDefined();
  });

  it('refuses on containers a drill of a default unifier (no application code runs there to fail), not in one thread', () => {
    const plan = planPhysical(
      application('unified', (dag) => {
        const source = dag.add('source', SequenceSource, { tuplesPerWindow: 3 }, { partitions: 2 });
        const sink = dag.add('files', FileSink<number>, { dir: 'unused' });
        dag.stream('numbers', source.out, sink.in);
      }).dag(),
    );
    const drill = parseDrill('actor:numbers:unifier@3');
    expect(() => actorDrills([drill], plan, join(tmp.dir, 'drill.ts'))).toThrow(
      /--fault actor:numbers:unifier@3: numbers:unifier is a default \(pass-through\) unifier, .* run it with --containers 0/,
    );
    const inThread = actorDrills([drill], plan);
    expect(inThread).toBeDefined();
    inThread?.close();
  });

  it('refuses a malformed drill with the usual usage line', async () => {
    const r = await sluice(['run', 'drill.ts', '--containers', '0', '--fault', 'actor:double'], tmp.dir);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      "sluice: option '--fault <drill>' argument 'actor:double' is invalid. expected actor:ID@W or container:N@W (W: a window ≥ 1).",
    ]);
  });

  it('refuses a container kill in a run that is not on containers, in one line', async () => {
    const r = await sluice(['run', 'drill.ts', '--containers', '0', '--fault', 'container:1@4'], tmp.dir, {
      DRILL_OUT: join(tmp.dir, 'no-containers'),
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'sluice: --fault container:1@4 needs a run on worker-thread containers: add --containers N',
    ]);
  });
});
