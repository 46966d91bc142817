import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OpsJob, OpsResult } from './large-state-ops.ts';
import type { LargeStateJob, LargeStateResult } from './large-state-run.ts';
import { spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';

const RUNNER = fileURLToPath(new URL('./large-state-run.ts', import.meta.url));
const OPS = fileURLToPath(new URL('./large-state-ops.ts', import.meta.url));

/** Keys the hot relaunch's tuples update (k0 … k63: at most 64 of the 840 key groups). */
const HOT_KEYS = 64;

/** The state and checkpoint cadence of each variant; `off` is the baseline (and the fresh-store launch). */
const VARIANTS = [
  { key: 'Off', label: 'checkpoints off (Map)', durable: false, every: 0 },
  { key: 'Map', label: 'Map, every 10 windows', durable: false, every: 10 },
  { key: 'Durable', label: 'DurableMap, every 10 windows', durable: true, every: 10 },
  { key: 'MapEvery1', label: 'Map, every window', durable: false, every: 1 },
  { key: 'DurableEvery1', label: 'DurableMap, every window', durable: true, every: 1 },
] as const;

type Variant = (typeof VARIANTS)[number];

async function runChild(job: LargeStateJob): Promise<LargeStateResult> {
  return runScript(RUNNER, job) as Promise<LargeStateResult>;
}

async function runScript(script: string, job: unknown): Promise<unknown> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, script, JSON.stringify(job)],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout);
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

const ms = (x: number) => `${Math.round(x)}`;
const range = (xs: number[]) => {
  const s = spread(xs);
  return { ...s, text: `${ms(s.median)} ms (${ms(s.min)}–${ms(s.max)})` };
};

/**
 * Large keyed state on the real clock (docs/guarantees.md, Checkpoints: DurableMap; issue 6 item 7): `src →
 * state`, where `state` holds 1 M small keys (string → number) and adds to a pseudo-random key per tuple,
 * 20,000 tuples per 500 ms window (the default streamingWindowMs), 20 windows. Per variant, in a fresh
 * process on a fresh LevelDB store: the longest gap between two consecutive windows done (a checkpoint that
 * blocks the event loop delays the window it ends and the next one), the longest event-loop block, and then,
 * in another fresh process, a relaunch on that store: launch → restored, and launch → its first window done,
 * against the fresh store's launch (which seeds the 1 M keys in setup()). Medians of rounds (variants
 * interleaved, order rotated per round) with their range.
 */
export const largeStateSection: Section = {
  title: 'large state: 1 M keys, checkpoint pause and relaunch',
  async run(o: BenchOptions): Promise<SectionReport> {
    const keys = o.quick ? 100_000 : 1_000_000;
    const windows = o.quick ? 12 : 20;
    const windowMs = 500;
    const perWindow = 20_000;
    const rounds = o.runs;
    const fresh = new Map<string, LargeStateResult[]>();
    const relaunched = new Map<string, LargeStateResult[]>();
    const hot = new Map<string, LargeStateResult[]>();
    const ops = new Map<string, OpsResult[]>();
    const opsJob = { keys, ops: o.quick ? 500_000 : 2_000_000 };
    const bytes = new Map<string, number[]>();
    const load = loadavg()[0]!;
    for (let round = 0; round < rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
      // The get/set loop alone, Map and DurableMap alternated (which goes first rotates with the round).
      for (const durable of round % 2 === 0 ? [false, true] : [true, false]) {
        o.progress(
          `large state: round ${round + 1} of ${rounds}, get/set loop, ${durable ? 'DurableMap' : 'Map'}`,
        );
        const r = (await runScript(OPS, { ...opsJob, durable } satisfies OpsJob)) as OpsResult;
        if (r.sum !== opsJob.ops) throw new BenchError(`get/set loop: counted ${r.sum}, not ${opsJob.ops}`);
        push(ops, durable ? 'Durable' : 'Map', r);
      }
      for (const v of order) {
        o.progress(`large state: round ${round + 1} of ${rounds}, ${v.label}`);
        const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-large-'));
        try {
          const job: LargeStateJob = {
            dir,
            durable: v.durable,
            every: v.every,
            keys,
            perWindow,
            windowMs,
            windows,
          };
          const first = await runChild(job);
          check(v, first, windows * perWindow);
          push(fresh, v.key, first);
          if (v.every === 0) continue;
          push(bytes, v.key, dirBytes(dir));
          // The hot relaunch runs on a copy of the store as this run left it (a relaunch checkpoints the
          // window it stops at).
          if (v.every === 10) cpSync(dir, `${dir}-hot`, { recursive: true });
          const again = await runChild({ ...job, windows: windows + 1 });
          if (again.restoredWindow !== windows)
            throw new BenchError(
              `${v.label}: relaunch restored window ${again.restoredWindow}, not ${windows}`,
            );
          check(v, again, (windows + 1) * perWindow);
          push(relaunched, v.key, again);
          if (v.every !== 10) continue;
          // The same relaunch, its one window updating HOT_KEYS keys only.
          const warm = await runChild({ ...job, dir: `${dir}-hot`, windows: windows + 1, hotKeys: HOT_KEYS });
          if (warm.restoredWindow !== windows || warm.unbuiltAfterFirstWindow < 0)
            throw new BenchError(`${v.label}: the hot relaunch restored window ${warm.restoredWindow}`);
          check(v, warm, (windows + 1) * perWindow);
          push(hot, v.key, warm);
        } finally {
          rmSync(dir, { recursive: true, force: true });
          rmSync(`${dir}-hot`, { recursive: true, force: true });
        }
      }
    }
    const lines = [
      `  ${keys.toLocaleString('en')} keys, ${perWindow.toLocaleString('en')} updates per ${windowMs} ms window, ${windows} windows, LevelDB in ${tmpdir()}; ${rounds} rounds, fresh processes; load average ${load.toFixed(2)} at the start`,
      '  delay = longest gap between consecutive windows done − the window length; block = longest event-loop delay:',
    ];
    const figures: Record<string, number> = {};
    const freshLaunch = range(fresh.get('Off')!.map((r) => r.firstWindowMs));
    for (const v of VARIANTS) {
      const runs = fresh.get(v.key)!;
      const delay = range(runs.map((r) => Math.max(...r.gapsMs) - windowMs));
      const block = range(runs.map((r) => r.loopMaxMs));
      figures[`largeState${v.key}DelayMsMedian`] = delay.median;
      figures[`largeState${v.key}DelayMsMax`] = delay.max;
      figures[`largeState${v.key}BlockMsMedian`] = block.median;
      let line = `  ${v.label.padEnd(30)} delay ${delay.text}, block ${block.text}`;
      if (v.every > 0) {
        const durable = range(runs.flatMap((r) => r.checkpointMs));
        line += `, checkpoint durable ${durable.text} after its window`;
        figures[`largeState${v.key}CheckpointMsMedian`] = durable.median;
      }
      lines.push(line);
    }
    lines.push(`  relaunch on the store the run left (launch → restored; launch → first window done):`);
    lines.push(`  ${'fresh store (seeds the keys)'.padEnd(30)} first window ${freshLaunch.text}`);
    figures.largeStateFreshLaunchMsMedian = freshLaunch.median;
    for (const v of VARIANTS) {
      const runs = relaunched.get(v.key);
      if (!runs) continue;
      const hotRuns = hot.get(v.key);
      const restored = range(runs.map((r) => r.startedMs));
      const first = range(runs.map((r) => r.firstWindowMs));
      const size = spread(bytes.get(v.key)!).median / 2 ** 20;
      figures[`largeState${v.key}RelaunchRestoredMsMedian`] = restored.median;
      figures[`largeState${v.key}RelaunchMsMedian`] = first.median;
      figures[`largeState${v.key}RelaunchMsMax`] = first.max;
      figures[`largeState${v.key}StoreMB`] = Math.round(size);
      lines.push(
        `  ${v.label.padEnd(30)} restored ${restored.text}, first window ${first.text} (×${(first.median / freshLaunch.median).toFixed(2)} of fresh); store ${size.toFixed(0)} MB`,
      );
      if (hotRuns) {
        const hotFirst = range(hotRuns.map((r) => r.firstWindowMs));
        const built = hotRuns.map((r) => 840 - r.unbuiltAfterFirstWindow);
        figures[`largeState${v.key}HotRelaunchMsMedian`] = hotFirst.median;
        lines.push(
          `  ${''.padEnd(30)} first window touching ${HOT_KEYS} keys: ${hotFirst.text}${v.durable ? `, key groups built in it ${built.join(', ')} of 840` : ''}`,
        );
      }
    }
    const loopMap = ops.get('Map')!;
    const loopDurable = ops.get('Durable')!;
    const ratios = loopDurable.map((r, i) => r.loopCpuMs / loopMap[i]!.loopCpuMs);
    const ratio = spread(ratios);
    const loopM = range(loopMap.map((r) => r.loopCpuMs));
    const loopD = range(loopDurable.map((r) => r.loopCpuMs));
    const iterM = range(loopMap.map((r) => r.iterateCpuMs));
    const iterD = range(loopDurable.map((r) => r.iterateCpuMs));
    figures.largeStateGetSetCpuRatioMedian = ratio.median;
    figures.largeStateGetSetCpuRatioMax = ratio.max;
    lines.push(
      `  get+set loop CPU (${opsJob.ops.toLocaleString('en')} pairs, random keys, DurableMap after a checkpoint): Map ${loopM.text}, DurableMap ${loopD.text}; ×${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}) per round`,
      `  one pass over the values, CPU: Map ${iterM.text}, DurableMap ${iterD.text}`,
    );
    return { lines, figures };
  },
};

function push<T>(m: Map<string, T[]>, key: string, value: T): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}

/** Every tuple reached the state once, across the relaunch too (a wrong restore changes the sum). */
function check(v: Variant, r: LargeStateResult, expected: number): void {
  if (r.sum !== expected)
    throw new BenchError(`${v.label}: the state counted ${r.sum} tuples, not ${expected}`);
}

// Runnable alone: `node --expose-gc --import tsx bench/large-state.ts [--quick] [--runs N]`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const runsAt = process.argv.indexOf('--runs');
  const report = await largeStateSection.run({
    keys: 'typed',
    quick,
    runs: runsAt > 0 ? Number(process.argv[runsAt + 1]) : quick ? 1 : 3,
    isolate: true,
    progress: (line) => process.stderr.write(`· ${line}\n`),
  });
  process.stdout.write(`${largeStateSection.title}\n${report.lines.join('\n')}\n`);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(report.figures)}\n`);
}
