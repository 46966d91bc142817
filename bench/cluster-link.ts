/**
 * Cluster link: tuples/s through the cluster protocol (handshake, `data` frames, limited decode, shape
 * checks, heartbeats) next to the same batches over a bare `ws` connection with cbor-x, in one run.
 * Medians of interleaved rounds, each run in a fresh process (cluster-link-run.ts), with their range.
 *
 * Not yet the "stream between two nodes": both ends are in one process, and there is no data plane
 * (placement, credit-based streams) to measure yet; this measures what the protocol layer costs.
 *
 *   node --import tsx bench/cluster-link.ts [--quick]
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchOptions, Section, SectionReport } from './section.ts';
import { BenchError } from './section.ts';

const run = promisify(execFile);
const RUNNER = fileURLToPath(new URL('./cluster-link-run.ts', import.meta.url));
const MODES = ['raw', 'sluice'] as const;

async function once(mode: (typeof MODES)[number], batches: number): Promise<number> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', RUNNER, mode, String(batches)], {
    maxBuffer: 1 << 20,
  });
  const { ms, tuples } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number; tuples: number };
  if (tuples !== batches * 1024)
    throw new BenchError(`cluster link (${mode}): ${tuples} tuples, not ${batches * 1024}`);
  return tuples / (ms / 1000);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mps = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;

export const clusterLinkSection: Section = {
  title: 'cluster link: the cluster protocol next to bare ws + cbor-x',
  async run(o: BenchOptions): Promise<SectionReport> {
    const batches = o.quick ? 500 : 4000;
    const rounds = Math.max(o.runs, 3);
    const rates: Record<(typeof MODES)[number], number[]> = { raw: [], sluice: [] };
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      o.progress(`cluster link: round ${r + 1} of ${rounds}`);
      // Alternate which goes first, so a drift in the machine's load does not favour one.
      const order = r % 2 === 0 ? MODES : ([...MODES].reverse() as (typeof MODES)[number][]);
      const got: Partial<Record<(typeof MODES)[number], number>> = {};
      for (const mode of order) got[mode] = await once(mode, batches);
      rates.raw.push(got.raw!);
      rates.sluice.push(got.sluice!);
      ratios.push(got.sluice! / got.raw!);
    }
    const range = (xs: number[], f: (x: number) => string) => `[${f(Math.min(...xs))}–${f(Math.max(...xs))}]`;
    const ratio = median(ratios);
    return {
      lines: [
        `  ${batches} batches × 1024 tuples ([device, metric, value]) per run, one process, 127.0.0.1; medians of ${rounds} interleaved rounds, fresh process per run; [min–max]`,
        `  bare ws + cbor-x          ${mps(median(rates.raw)).padStart(10)} ${range(rates.raw, mps)}`,
        `  cluster protocol          ${mps(median(rates.sluice)).padStart(10)} ${range(rates.sluice, mps)}`,
        `  protocol / bare (per-round ratios)  ${ratio.toFixed(3)} ${range(ratios, (x) => x.toFixed(2))}   target ≥ 0.70: ${ratio >= 0.7 ? 'met' : 'MISSED'}`,
      ],
      figures: {
        clusterLinkRawTuplesPerSec: Math.round(median(rates.raw)),
        clusterLinkTuplesPerSec: Math.round(median(rates.sluice)),
        clusterLinkRatio: Math.round(ratio * 1000) / 1000,
      },
    };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const report = await clusterLinkSection.run({
    keys: 'typed',
    quick,
    runs: 5,
    isolate: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${clusterLinkSection.title}\n${report.lines.join('\n')}\n`);
}
