import { expect, it } from 'vitest';
import { FileSink, SequenceSource } from '../../actors/index.ts';
import { application, WindowFencedOutput } from '../../src/index.ts';
import { chaos, describeVerdict, runWithFaults } from '../../src/testkit/index.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';

/** An "external system" that outlives the operator's instances, as a database would. */
const table = new Map<string, { rows: number[]; lastWindow: number }>();

/** Appends each window's rows and records the window; `forgetful` reads the last window back as 0. */
class TableOutput extends WindowFencedOutput<number, {}, { name: string; forgetful?: boolean }> {
  private get t() {
    let t = table.get(this.props.name);
    if (!t) table.set(this.props.name, (t = { rows: [], lastWindow: 0 }));
    return t;
  }
  protected lastAppliedWindow(): number {
    return this.props.forgetful ? 0 : this.t.lastWindow;
  }
  protected applyWindow(window: number, tuples: number[]): void {
    this.t.rows.push(...tuples);
    this.t.lastWindow = window;
  }
}

const app = (name: string, forgetful: boolean) =>
  application(`table-${name}`, (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 4, batch: 2 });
    const out = dag.add('out', TableOutput, { name, forgetful });
    dag.stream('numbers', src.out, out.in);
  });

const faults = [{ kind: 'throw' as const, actor: 'out', window: 6, call: 'endWindow' as const }];

it('an output that applies a replayed window again fails the run: its own fencing is under test', async () => {
  const forgetful = await runWithFaults(app('forgetful', true), {
    windows: 8,
    checkpointWindowCount: 2,
    faults,
  });
  expect(forgetful.faultsFired).toHaveLength(1);
  expect(forgetful.error?.message).toMatch(
    /^output out applied window 5 twice \(by its instance of epoch \d+, then by that of epoch \d+\): its lastAppliedWindow\(\) must return the newest window applied/,
  );
  expect((forgetful.error as { code?: string }).code).toBe('SLUICE_DUPLICATE_APPLY');
  // What the kit itself recorded is fenced, and was identical: only the output's own check catches it.
  expect(table.get('forgetful')!.rows.length).toBeGreaterThan(8 * 4);

  const honest = await runWithFaults(app('honest', false), { windows: 8, checkpointWindowCount: 4, faults });
  expect(honest.faultsFired).toHaveLength(1);
  expect(honest.error).toBeUndefined();
  expect(table.get('honest')!.rows).toEqual(Array.from({ length: 32 }, (_, i) => i));
});

it('chaos fails such an output with a counterexample; FileSink passes', async () => {
  table.clear();
  const verdict = await chaos(app('chaos', true), { runs: 15, seed: 3, windows: 8 });
  expect(verdict.ok).toBe(false);
  expect(describeVerdict(verdict)).toMatch(/applied window \d+ twice/);
  const dir = tempDir('kit-file-sink');
  try {
    const files = application('files', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 4, batch: 2 });
      const out = dag.add('out', FileSink<number>, { dir });
      dag.stream('numbers', src.out, out.in);
    });
    const fileVerdict = await chaos(files, { runs: 15, seed: 3, windows: 8 });
    expect(fileVerdict.ok, describeVerdict(fileVerdict)).toBe(true);
  } finally {
    removeDir(dir);
  }
});
