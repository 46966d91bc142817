import { fileURLToPath } from 'node:url';
import { runInChild } from './child-process.ts';
import type { ManyActorsJob, ManyActorsResult } from './many-actors-run.ts';
import { spread } from './measure.ts';
import type { BenchOptions, Section, SectionReport } from './section.ts';

const RUNNER = fileURLToPath(new URL('./many-actors-run.ts', import.meta.url));
const TUPLES_PER_WINDOW = 8;

/**
 * Does the engine's cost per actor and window stay the same as an application grows to thousands of
 * actors in one thread? `src ×P → map ×P` (parallel streams, queued channels) at P = 500 and P = 4,000
 * (1,000 and 8,000 actors), virtual time, checkpoints every 10 windows on LevelDB; each run in a fresh
 * process, sizes interleaved per round. The figure is the ratio of the microseconds per actor and window
 * at 8,000 actors to those at 1,000 (target ≤ 1.5: linear, give or take the cache). The per-window
 * bookkeeping was quadratic before (941 ms a window at 8,000 actors, 32 at 1,000: a ratio of ~3.7).
 */
export const manyActorsSection: Section = {
  title: 'many actors: cost per actor and window at 1,000 and 8,000 actors (one thread)',
  async run(o: BenchOptions): Promise<SectionReport> {
    const sizes = o.quick ? [100, 800] : [500, 4000];
    const windows = o.quick ? 30 : 60;
    const from = 20;
    const perActor = new Map<number, number[]>(sizes.map((p) => [p, []]));
    const ratios: number[] = [];
    const wrong: string[] = [];
    for (let round = 0; round < o.runs; round++) {
      const order = round % 2 === 0 ? sizes : [...sizes].reverse();
      const seen = new Map<number, number>();
      for (const partitions of order) {
        o.progress(`many actors: ${2 * partitions} actors, round ${round + 1} of ${o.runs}`);
        const job: ManyActorsJob = { partitions, windows, from };
        const r = await runInChild<ManyActorsResult>(RUNNER, job, `many actors (${2 * partitions})`);
        const expected = TUPLES_PER_WINDOW * partitions * windows;
        if (r.tuples !== expected) wrong.push(`${r.actors} actors: ${r.tuples} tuples, not ${expected}`);
        const us = (1000 * r.msPerWindow) / r.actors;
        perActor.get(partitions)!.push(us);
        seen.set(partitions, us);
      }
      ratios.push(seen.get(sizes[1]!)! / seen.get(sizes[0]!)!);
    }
    const lines = [
      `  src ×P → map ×P, parallel queued streams, ${windows} windows (timed from window ${from}), virtual time, checkpoints every 10 on LevelDB`,
      `  medians of ${o.runs} interleaved rounds, each run in a fresh process; [min–max]`,
    ];
    const figures: Record<string, number> = {};
    for (const p of sizes) {
      const s = spread(perActor.get(p)!);
      const actors = 2 * p;
      lines.push(
        `  ${actors.toLocaleString('en').padStart(6)} actors   ${s.median.toFixed(2)} µs per actor and window [${s.min.toFixed(2)}–${s.max.toFixed(2)}]   ${((s.median * actors) / 1000).toFixed(1)} ms a window`,
      );
      figures[`manyActors${actors}UsPerActorWindow`] = Number(s.median.toFixed(3));
    }
    const r = spread(ratios);
    const met = r.median <= 1.5;
    lines.push(
      `  ${2 * sizes[1]!} actors / ${2 * sizes[0]!} actors, per actor and window: ${r.median.toFixed(2)} [${r.min.toFixed(2)}–${r.max.toFixed(2)}]   target ≤ 1.5: ${met ? 'met' : 'MISSED'}`,
    );
    figures.manyActorsPerActorRatio = Number(r.median.toFixed(3));
    return { lines, figures, wrong };
  },
};
