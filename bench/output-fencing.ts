import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const RUNNER = fileURLToPath(new URL('./output-fencing-run.ts', import.meta.url));

async function runChild(variant: 'fenced' | 'unfenced', windows: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    ...process.execArgv,
    RUNNER,
    variant,
    String(windows),
  ]);
  const r = JSON.parse(stdout) as { ms: number; files: number };
  if (r.files !== windows)
    throw new BenchError(`${variant} file output wrote ${r.files} of ${windows} windows`);
  return r.ms;
}

/**
 * What fencing costs a file output: a run of a source into FileSink (a claim at setup; per window a
 * listing of `.fence/`, a hard link and an unlink) against the same run into the sink as it was before
 * fencing (a rename per window). Each round runs both, in fresh processes, in alternating order; the
 * figure is the median of the rounds' ratios, with their range.
 */
export const outputFencingSection: Section = {
  title: 'Output fencing (FileSink)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const windows = o.quick ? 50 : 400;
    const rounds = Math.max(o.runs, o.quick ? 1 : 5);
    const ratios: number[] = [];
    const fenced: number[] = [];
    const unfenced: number[] = [];
    for (let i = 0; i < rounds; i++) {
      o.progress(`output fencing: round ${i + 1} of ${rounds}`);
      const order = i % 2 === 0 ? (['fenced', 'unfenced'] as const) : (['unfenced', 'fenced'] as const);
      const ms: Record<string, number> = {};
      for (const v of order) ms[v] = await runChild(v, windows);
      fenced.push(ms.fenced! / windows);
      unfenced.push(ms.unfenced! / windows);
      ratios.push(ms.fenced! / ms.unfenced!);
    }
    const r = spread(ratios);
    const f = spread(fenced);
    const u = spread(unfenced);
    return {
      lines: [
        `${windows} windows of 50 tuples, ${rounds} rounds, fresh processes, interleaved:`,
        `  fenced / unfenced run time: ${r.median.toFixed(2)}× (range ${r.min.toFixed(2)}–${r.max.toFixed(2)})`,
        `  per window: fenced ${f.median.toFixed(3)} ms (${f.min.toFixed(3)}–${f.max.toFixed(3)}), ` +
          `unfenced ${u.median.toFixed(3)} ms (${u.min.toFixed(3)}–${u.max.toFixed(3)})`,
      ],
      figures: {
        fencingRatioMedian: r.median,
        fencingRatioMin: r.min,
        fencingRatioMax: r.max,
        fencedMsPerWindowMedian: f.median,
        unfencedMsPerWindowMedian: u.median,
      },
    };
  },
};

// Runnable alone: `node --import tsx bench/output-fencing.ts [--quick]`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const report = await outputFencingSection.run({
    keys: 'typed',
    quick,
    runs: quick ? 1 : 7,
    isolate: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${outputFencingSection.title}\n${report.lines.join('\n')}\n`);
}
