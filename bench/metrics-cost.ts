import { fileURLToPath } from 'node:url';
import { READINGS_PER_WINDOW, totalReadings, type Workload } from './case-study-workload.ts';
import { runInChild } from './child-process.ts';
import { runHandLoop } from './hand-loop.ts';
import { spread } from './measure.ts';
import type { MetricsCostJob, MetricsCostResult } from './metrics-cost-run.ts';
import { runMetricsCost } from './metrics-cost-run.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const TARGET_PERCENT = 3;
const CHILD = fileURLToPath(new URL('./metrics-cost-run.ts', import.meta.url));

const VARIANTS = [
  { key: 'FusedOff', label: 'fused, metrics off', locality: 'thread', metrics: false, console: false },
  { key: 'FusedOn', label: 'fused, metrics on', locality: 'thread', metrics: true, console: false },
  { key: 'MailboxOff', label: 'mailbox, metrics off', locality: 'container', metrics: false, console: false },
  { key: 'MailboxOn', label: 'mailbox, metrics on', locality: 'container', metrics: true, console: false },
  {
    key: 'MailboxConsole',
    label: 'mailbox, metrics on, console open',
    locality: 'container',
    metrics: true,
    console: true,
  },
] as const;

type Key = (typeof VARIANTS)[number]['key'];

/** Pairs: which variant is compared with which (the baseline), and the target if there is one. */
const COMPARE: { on: Key; off: Key; label: string; target?: number }[] = [
  { on: 'FusedOn', off: 'FusedOff', label: 'fused: metrics on vs off', target: TARGET_PERCENT },
  { on: 'MailboxOn', off: 'MailboxOff', label: 'mailbox: metrics on vs off', target: TARGET_PERCENT },
  { on: 'MailboxConsole', off: 'MailboxOn', label: 'mailbox: console listening (no page) vs not' },
];

function runChild(job: MetricsCostJob): Promise<MetricsCostResult> {
  return runInChild<MetricsCostResult>(CHILD, job, `metrics-cost child for ${JSON.stringify(job)}`);
}

/**
 * What the metrics cost (issue 11): the case study (keys typed, memory store, virtual time, no
 * checkpoints) fused and through mailboxes, with metrics off and on, and with the web console listening
 * but no page connected. Interleaved rounds, the order rotated each round, every run in a fresh process;
 * the cost is taken per round (slowdown of the pair's two runs in that round), its median and range shown.
 */
export const metricsCostSection: Section = {
  title: 'metrics cost: the case study with metrics off and on, fused and mailbox',
  async run(o: BenchOptions): Promise<SectionReport> {
    // 512 windows (~1 s a run): at 64 (~0.2 s) the fixed costs of a launch and the machine's noise made a
    // few-percent difference unreadable (fused on/off read +28 % wall there, ±10 % at 512).
    const w: Workload = { windows: o.quick ? 4 : 512, readingsPerWindow: READINGS_PER_WINDOW };
    const reference = runHandLoop(w, 'typed').toString();
    const runs = new Map<Key, MetricsCostResult[]>(VARIANTS.map((v) => [v.key, []]));
    o.progress(`metrics cost: ${VARIANTS.length} variants × ${o.runs} interleaved rounds`);
    for (let round = 0; round < o.runs; round++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const v = VARIANTS[(k + round) % VARIANTS.length]!;
        const job: MetricsCostJob = {
          locality: v.locality,
          metrics: v.metrics,
          console: v.console,
          workload: w,
        };
        const r = o.isolate ? await runChild(job) : await runMetricsCost(job);
        if (r.checksum !== reference)
          throw new BenchError(`metrics cost, ${v.label}: checksum ${r.checksum} differs from ${reference}`);
        runs.get(v.key)!.push(r);
      }
    }
    const readings = totalReadings(w);
    const lines = [
      `  ${w.windows} windows × ${w.readingsPerWindow} readings = ${readings.toLocaleString('en')} readings per run; medians of ${o.runs} interleaved rounds, ${o.isolate ? 'fresh processes' : 'in this process'}, [min–max]`,
    ];
    const figures: Record<string, number> = {};
    for (const v of VARIANTS) {
      const rate = spread(runs.get(v.key)!.map((r) => (readings * 1000) / r.ms));
      figures[`metricsCost${v.key}MedianReadingsPerSec`] = Math.round(rate.median);
      const gcs = runs.get(v.key)!.map((r) => r.scavenges);
      lines.push(
        `  ${v.label.padEnd(36)} ${(rate.median / 1e6).toFixed(2)} M readings/s [${(rate.min / 1e6).toFixed(2)}–${(rate.max / 1e6).toFixed(2)}], scavenges ${gcs.join(' ')}`,
      );
    }
    lines.push(...byJitMode(runs.get('FusedOff')!, runs.get('FusedOn')!, readings, figures));
    for (const c of COMPARE) {
      const on = runs.get(c.on)!;
      const off = runs.get(c.off)!;
      const wall = spread(on.map((r, i) => (r.ms / off[i]!.ms - 1) * 100));
      const cpu = spread(on.map((r, i) => (r.cpuMs / off[i]!.cpuMs - 1) * 100));
      figures[`metricsCost${c.on}SlowdownPercent`] = Math.round(wall.median * 10) / 10;
      figures[`metricsCost${c.on}CpuPercent`] = Math.round(cpu.median * 10) / 10;
      const target =
        c.target === undefined
          ? ''
          : `   target ≤ ${c.target} %: ${wall.median <= c.target ? 'met' : 'MISSED'}`;
      lines.push(
        `  ${c.label.padEnd(44)} wall ${pct(wall.median)} [${pct(wall.min)} – ${pct(wall.max)}], CPU ${pct(cpu.median)} [${pct(cpu.min)} – ${pct(cpu.max)}]${target}`,
      );
    }
    return { lines, figures };
  },
};

/** A fused run whose chain TurboFan inlined whole allocates no tuples: (almost) no scavenges. */
const INLINED_MAX_SCAVENGES = 10;

/**
 * The fused variants by JIT mode: whether TurboFan inlined the chain into the source is decided per
 * process, metrics on or off, and the two modes differ by far more than a few percent, so a round pairing
 * an inlined run with one that was not says nothing about metrics. Medians per mode, with their counts.
 */
function byJitMode(
  off: readonly MetricsCostResult[],
  on: readonly MetricsCostResult[],
  readings: number,
  figures: Record<string, number>,
): string[] {
  const lines: string[] = [];
  for (const inlined of [true, false]) {
    const mode = (r: MetricsCostResult) => r.scavenges <= INLINED_MAX_SCAVENGES === inlined;
    const rate = (rs: readonly MetricsCostResult[]) => {
      const kept = rs.filter(mode);
      return kept.length === 0
        ? undefined
        : { n: kept.length, ...spread(kept.map((r) => (readings * 1000) / r.ms)) };
    };
    const a = rate(off);
    const b = rate(on);
    const show = (x: typeof a) => (x === undefined ? 'none' : `${(x.median / 1e6).toFixed(2)} M/s (${x.n})`);
    let cost = '';
    if (a !== undefined && b !== undefined) {
      const percent = (a.median / b.median - 1) * 100;
      figures[`metricsCostFused${inlined ? 'Inlined' : 'NotInlined'}SlowdownPercent`] =
        Math.round(percent * 10) / 10;
      cost = `: metrics on ${pct(percent)}`;
    }
    lines.push(
      `  fused, chain ${inlined ? 'inlined' : 'not inlined'} (${inlined ? '≤' : '>'} ${INLINED_MAX_SCAVENGES} scavenges): off ${show(a)}, on ${show(b)}${cost}`,
    );
  }
  return lines;
}

function pct(p: number): string {
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)} %`;
}
