/**
 * `sluice chaos` progress on stderr: a run can take minutes, and silence looks like a hang. A line every
 * tenth of the schedules (and at least every few seconds), then one per ten schedules fast-check tries
 * while it shrinks a failure. Stdout keeps only the verdict and the replay line.
 */
import type { ChaosProgress } from '../testkit/index.ts';

const EVERY_MS = 5_000;

export function chaosProgress(
  err: NodeJS.WritableStream,
  now: () => number = Date.now,
): (p: ChaosProgress) => void {
  let last = now();
  let shrinkingSaid = false;
  return (p) => {
    const step = Math.max(1, Math.ceil(p.runs / 10));
    const late = now() - last >= EVERY_MS;
    let line: string | undefined;
    if (p.shrinkSteps === 0) {
      if (p.done % step === 0 || p.done === p.runs || late) {
        line = `chaos: ${p.done}/${p.runs} schedules, ${p.faultsFired} faults fired, ${p.restoredRuns} runs restored from a checkpoint`;
      }
    } else if (!shrinkingSaid) {
      shrinkingSaid = true;
      line = `chaos: schedule ${p.done}/${p.runs} failed; looking for the smallest schedule that fails`;
    } else if (p.shrinkSteps % 10 === 0 || late) {
      line = `chaos: ${p.shrinkSteps} smaller schedules tried`;
    }
    if (line === undefined) return;
    last = now();
    err.write(`${line}\n`);
  };
}
