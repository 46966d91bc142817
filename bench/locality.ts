import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TUPLES_PER_WINDOW } from './locality-app.ts';
import { type Span, spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const RUNNER = fileURLToPath(new URL('./locality-run.ts', import.meta.url));
const VARIANTS = ['raw', 'thread', 'container', 'node'] as const;
type Variant = (typeof VARIANTS)[number] | 'cpu' | 'cpu1';
interface Result {
  ms: number;
  cpuMs: number;
  tuples: number;
  /** sluice: from the last window done to run.done (stopping the containers), not in `ms`. */
  stopMs?: number;
  /** From the end of the warm-up windows to the end (see locality-run.ts). */
  steady?: Span;
}

async function runChild(variant: Variant, windows: number, warmup = 0): Promise<Result> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, RUNNER, variant, String(windows), String(warmup)],
    {
      maxBuffer: 1 << 20,
    },
  );
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as Result;
  const expected = windows * TUPLES_PER_WINDOW * (variant.startsWith('cpu') ? 2 : 1);
  if (r.tuples !== expected)
    throw new BenchError(`locality ${variant}: ${r.tuples} tuples arrived of ${expected}`);
  if (warmup > 0 && r.steady === undefined)
    throw new BenchError(`locality ${variant}: no mark at the end of window ${warmup}`);
  return r;
}

/**
 * A 2-stage stream (numbers → a counting sink) at each locality — thread (fused), container (a mailbox in
 * one thread), node (two worker-thread containers, encoded batches over a MessagePort with credits) — next
 * to the raw baseline: the same batches (1024 numbers, the batch codec, transferred buffers) over a bare
 * MessagePort between two workers. Then the two-cores check: a 2-partition pipeline with CPU work per
 * tuple on 2 containers, its process CPU time over wall time, next to the same pipeline in one thread.
 * Rounds interleaved, each run in a fresh process, timed from the first window (worker start-up excluded);
 * medians with [min–max]; ratios per round.
 */
export const localitySection: Section = {
  title:
    'locality: a 2-stage stream in a thread, a container and across containers, against a bare MessagePort',
  async run(o: BenchOptions): Promise<SectionReport> {
    // The steady state after WARMUP windows is the headline, the whole run below it: over the first
    // windows each of sluice's two workers compiles its (longer) hot path and grows its buffers, which at
    // 320 windows (~0.6 s) was a quarter of the run's CPU and is not what a stream runs at for hours
    // (bench/README, "Locality: the steady state"). Raw's span starts at the same tuple.
    const windows = o.quick ? 16 : 640;
    const warmup = o.quick ? 4 : 160;
    const cpuWindows = o.quick ? 4 : 24;
    const rounds = Math.max(o.runs, o.quick ? 1 : 3);
    const load = loadavg()[0]!;
    const runs = new Map<Variant, Result[]>();
    for (let i = 0; i < rounds; i++) {
      o.progress(`locality: round ${i + 1} of ${rounds}`);
      const forward: Variant[] = [...VARIANTS, 'cpu', 'cpu1'];
      const order = i % 2 === 0 ? forward : [...forward].reverse();
      for (const v of order) {
        const r = v.startsWith('cpu') ? await runChild(v, cpuWindows) : await runChild(v, windows, warmup);
        runs.set(v, [...(runs.get(v) ?? []), r]);
      }
    }
    const wholeTuples = windows * TUPLES_PER_WINDOW;
    const tuples = (windows - warmup) * TUPLES_PER_WINDOW;
    const steady = (r: Result): Span => r.steady!;
    const rate = (r: Result) => tuples / (steady(r).ms / 1000);
    const wholeRate = (r: Result) => wholeTuples / (r.ms / 1000);
    const lines = [
      `  ${windows} windows × ${TUPLES_PER_WINDOW.toLocaleString('en')} numbers = ${wholeTuples.toLocaleString('en')} tuples per run, batches of 1024, virtual time`,
      `  sluice with its defaults: checkpoints every 10 windows to a LevelSnapshotStore (in /tmp); timed from 'started' to the last window done`,
      `  steady state: windows ${warmup + 1}–${windows} (raw: from its consumer's ${(warmup * TUPLES_PER_WINDOW).toLocaleString('en')}th tuple); the whole run below`,
      `  ${rounds} interleaved rounds, fresh processes; medians [min–max]; load average ${load.toFixed(2)} at the start`,
    ];
    const figures: Record<string, number> = {};
    for (const v of VARIANTS) {
      const t = spread(runs.get(v)!.map(rate));
      const ratio = spread(runs.get(v)!.map((r, i) => rate(r) / rate(runs.get('raw')![i]!)));
      const label = v === 'raw' ? 'raw MessagePort (baseline)' : `sluice, locality '${v}'`;
      lines.push(
        `  ${label.padEnd(30)} ${(t.median / 1e6).toFixed(2).padStart(6)} M/s [${(t.min / 1e6).toFixed(2)}–${(t.max / 1e6).toFixed(2)}]` +
          (v === 'raw'
            ? ''
            : `   ${ratio.median.toFixed(2)}× raw [${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}]`) +
          (v === 'node' ? `   target ≥ 0.7×: ${ratio.median >= 0.7 ? 'met' : 'MISSED'}` : ''),
      );
      figures[`locality_${v}MedianTuplesPerSec`] = Math.round(t.median);
      if (v !== 'raw') figures[`locality_${v}VsRaw`] = Math.round(ratio.median * 100) / 100;
    }
    // CPU time per tuple against raw's, per round: on a shared machine the steadier figure (wall time
    // includes waiting for a core; CPU time is the work each design costs).
    const ns = (r: Result) => (steady(r).cpuMs * 1e6) / tuples;
    const rawNs = spread(runs.get('raw')!.map(ns));
    lines.push(
      `  CPU time per tuple (process, every thread): raw ${rawNs.median.toFixed(1)} ns [${rawNs.min.toFixed(1)}–${rawNs.max.toFixed(1)}]`,
    );
    figures.locality_rawCpuNsPerTuple = Math.round(rawNs.median * 10) / 10;
    for (const v of ['container', 'node'] as const) {
      const cpu = spread(runs.get(v)!.map((r, i) => steady(runs.get('raw')![i]!).cpuMs / steady(r).cpuMs));
      const own = spread(runs.get(v)!.map(ns));
      lines.push(
        `  CPU time, raw / sluice '${v}': ${cpu.median.toFixed(2)}× [${cpu.min.toFixed(2)}–${cpu.max.toFixed(2)}]   (${own.median.toFixed(1)} ns per tuple [${own.min.toFixed(1)}–${own.max.toFixed(1)}])`,
      );
      figures[`locality_${v}CpuVsRaw`] = Math.round(cpu.median * 100) / 100;
      figures[`locality_${v}CpuNsPerTuple`] = Math.round(own.median * 10) / 10;
    }
    const whole = (v: Variant) => spread(runs.get(v)!.map(wholeRate));
    const wholeRatio = spread(
      runs.get('node')!.map((r, i) => wholeRate(r) / wholeRate(runs.get('raw')![i]!)),
    );
    lines.push(
      `  whole run (windows 1–${windows}): raw ${(whole('raw').median / 1e6).toFixed(2)} M/s, sluice 'node' ${(whole('node').median / 1e6).toFixed(2)} M/s, ` +
        `${wholeRatio.median.toFixed(2)}× raw [${wholeRatio.min.toFixed(2)}–${wholeRatio.max.toFixed(2)}]`,
    );
    figures.locality_nodeVsRawWholeRun = Math.round(wholeRatio.median * 100) / 100;
    const stop = spread(runs.get('node')!.map((r) => r.stopMs ?? 0));
    lines.push(
      `  'node': stopping the 2 containers after the last window (not timed above) ${stop.median.toFixed(0)} ms [${stop.min.toFixed(0)}–${stop.max.toFixed(0)}]; load average ${loadavg()[0]!.toFixed(2)} at the end`,
    );
    const busy = (v: Variant) => spread(runs.get(v)!.map((r) => r.cpuMs / r.ms));
    const two = busy('cpu');
    const one = busy('cpu1');
    lines.push(
      `  2 partitions with CPU work, ${cpuWindows} windows: process CPU time / wall time on 2 containers ${two.median.toFixed(2)} [${two.min.toFixed(2)}–${two.max.toFixed(2)}]` +
        ` (target ≥ 1.6: ${two.median >= 1.6 ? 'met' : 'MISSED'}), in one thread ${one.median.toFixed(2)} [${one.min.toFixed(2)}–${one.max.toFixed(2)}]`,
    );
    figures.locality_cpuPerWall2Containers = Math.round(two.median * 100) / 100;
    figures.locality_cpuPerWallOneThread = Math.round(one.median * 100) / 100;
    return { lines, figures };
  },
};
