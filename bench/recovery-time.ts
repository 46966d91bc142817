import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Locality, launch, RestartStrategy } from '../src/index.ts';
import {
  AverageChecksum,
  type KeyEncoding,
  READINGS_PER_WINDOW,
  type Workload,
} from './case-study-workload.ts';
import { runHandLoop } from './hand-loop.ts';
import { spread } from './measure.ts';
import { BenchError, type BenchOptions, type Section, type SectionReport } from './section.ts';
import { armFault, caseStudyApp, injectedFault } from './sluice-pipeline.ts';

/** Checkpoints every 5 windows; the fault strikes halfway through window 7, so recovery restores window 5. */
const CHECKPOINT_EVERY = 5;
const FAIL_WINDOW = 7;
const WINDOWS = 8;
const STREAMING_WINDOW_MS = 100;
const REPEATS = 5;
const TARGET_MS = 1000;

interface Setting {
  readonly locality: Locality;
  readonly virtualTime: boolean;
  readonly defaultBackoff: boolean;
}

/** Milliseconds from the `failure` event to each later milestone of one recovery. */
interface Recovery {
  /** To the `restart` event (checkpoint writes in flight settle, the supervisor decides). */
  readonly toRestart: number;
  /** To the `recovered` event (backoff, snapshots loaded, the recovery set rebuilt and set up). */
  readonly toRecovered: number;
  /** To the first `window` event after `recovered`: the first window processed after recovery. */
  readonly toWindow: number;
  /** To the `window` event of the window that failed (real time: it closes on the clock). */
  readonly toFailedWindow: number;
  readonly restoredWindow: number;
  readonly firstWindow: number;
}

/**
 * One run of the case-study pipeline with FailingGenerateDimensions on a LevelSnapshotStore in a fresh
 * temporary directory: the operator throws once, halfway through window FAIL_WINDOW; the run goes on to
 * WINDOWS and must produce the checksum of a run without the fault.
 */
async function runRecovery(s: Setting, keys: KeyEncoding, expected: string): Promise<Recovery> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-recovery-'));
  try {
    const workload: Workload = { windows: WINDOWS, readingsPerWindow: READINGS_PER_WINDOW };
    const into = new AverageChecksum();
    const thrown = injectedFault.thrown;
    armFault(FAIL_WINDOW, READINGS_PER_WINDOW / 2);
    const run = await launch(caseStudyApp({ locality: s.locality, workload, keys, into, failing: true }), {
      store: dir,
      virtualTime: s.virtualTime,
      streamingWindowMs: STREAMING_WINDOW_MS,
      windows: WINDOWS,
      checkpointWindowCount: CHECKPOINT_EVERY,
      restart: s.defaultBackoff ? RestartStrategy.restart() : RestartStrategy.restart().withBackoff(0, 0),
    });
    let failedAt: number | undefined;
    let restartAt: number | undefined;
    let recoveredAt: number | undefined;
    let windowAt: number | undefined;
    let failedWindowAt: number | undefined;
    let restoredWindow = 0;
    let firstWindow = 0;
    run.on('status', (e) => {
      const now = performance.now();
      if (e.type === 'failure') failedAt ??= now;
      else if (e.type === 'restart') restartAt ??= now;
      else if (e.type === 'recovered' && recoveredAt === undefined) {
        recoveredAt = now;
        restoredWindow = e.window;
      } else if (e.type === 'window' && recoveredAt !== undefined) {
        if (windowAt === undefined) {
          windowAt = now;
          firstWindow = e.window;
        }
        if (e.window === FAIL_WINDOW) failedWindowAt = now;
      }
    });
    await run.done;
    const what = `recovery (${describe(s)})`;
    if (injectedFault.thrown !== thrown + 1) throw new BenchError(`${what}: the fault did not strike once`);
    if (
      failedAt === undefined ||
      restartAt === undefined ||
      recoveredAt === undefined ||
      windowAt === undefined ||
      failedWindowAt === undefined
    ) {
      throw new BenchError(`${what}: missing status events (failure, restart, recovered, window)`);
    }
    if (into.toString() !== expected) {
      throw new BenchError(`${what}: checksum ${into.toString()} differs from the fault-free ${expected}`);
    }
    return {
      toRestart: restartAt - failedAt,
      toRecovered: recoveredAt - failedAt,
      toWindow: windowAt - failedAt,
      toFailedWindow: failedWindowAt - failedAt,
      restoredWindow,
      firstWindow,
    };
  } finally {
    injectedFault.window = 0;
    await rm(dir, { recursive: true, force: true });
  }
}

const SETTINGS: readonly Setting[] = [false, true].flatMap((defaultBackoff) =>
  [true, false].flatMap((virtualTime) =>
    (['container', 'thread'] as const).map((locality) => ({ locality, virtualTime, defaultBackoff })),
  ),
);

function describe(s: Setting): string {
  return [
    s.locality === 'thread' ? "'thread'   " : "'container'",
    s.virtualTime ? 'virtual time ' : `real ${STREAMING_WINDOW_MS} ms  `,
    s.defaultBackoff ? 'default (50 ms)' : 'backoff 0      ',
  ].join('  ');
}

/** recovery + RealTime? + DefaultBackoff? + Fused? (container, virtual time, backoff 0 is plain `recovery`). */
function keyOf(s: Setting): string {
  return `recovery${s.virtualTime ? '' : 'RealTime'}${s.defaultBackoff ? 'DefaultBackoff' : ''}${s.locality === 'thread' ? 'Fused' : ''}`;
}

/**
 * Recovery time: from an operator's failure to the first window processed after recovery, on a
 * LevelSnapshotStore, for both localities, virtual and real time, restart without and with backoff.
 */
export const recoveryTimeSection: Section = {
  title: 'recovery time: an operator throws once; from the failure to the first window after recovery',
  async run(o: BenchOptions): Promise<SectionReport> {
    const repeats = o.quick ? 1 : REPEATS;
    const expected = runHandLoop(
      { windows: WINDOWS, readingsPerWindow: READINGS_PER_WINDOW },
      o.keys,
    ).toString();
    const lines = [
      `  ${WINDOWS} windows × ${READINGS_PER_WINDOW} readings, keys ${o.keys}, checkpoints every ${CHECKPOINT_EVERY} windows, LevelSnapshotStore in ${tmpdir()}`,
      `  GenerateDimensions throws once, halfway through window ${FAIL_WINDOW}; recovery restores window ${CHECKPOINT_EVERY} and replays`,
      `  from window ${CHECKPOINT_EVERY + 1}. Restart: withBackoff(0, 0), or the default strategy (first backoff 50 ms).`,
      `  ms from the failure event to the first window event after recovered (min / median / max of ${repeats}),`,
      `  and medians to the restart and recovered events and to window ${FAIL_WINDOW} (the failed one) done:`,
      `  ${'locality'.padEnd(11)}  ${'time'.padEnd(13)}  ${'restart'.padEnd(15)}  ${'first window: min / median / max'.padStart(34)}  ${'restart'.padStart(9)}${'recovered'.padStart(10)}${`window ${FAIL_WINDOW}`.padStart(10)}`,
    ];
    const figures: Record<string, number> = {};
    await runRecovery(SETTINGS[0]!, o.keys, expected); // warm-up
    for (const s of SETTINGS) {
      o.progress(`recovery: ${describe(s).replace(/ +/g, ' ').trim()} × ${repeats}`);
      const runs: Recovery[] = [];
      for (let i = 0; i < repeats; i++) runs.push(await runRecovery(s, o.keys, expected));
      const toWindow = spread(runs.map((r) => r.toWindow));
      const median = (f: (r: Recovery) => number) => spread(runs.map(f)).median;
      const key = keyOf(s);
      figures[`${key}MsMin`] = round(toWindow.min);
      figures[`${key}MsMedian`] = round(toWindow.median);
      figures[`${key}MsMax`] = round(toWindow.max);
      figures[`${key}ToRecoveredMsMedian`] = round(median((r) => r.toRecovered));
      figures[`${key}ToFailedWindowMsMedian`] = round(median((r) => r.toFailedWindow));
      const odd = runs.find(
        (r) => r.restoredWindow !== CHECKPOINT_EVERY || r.firstWindow !== CHECKPOINT_EVERY + 1,
      );
      const note = odd ? `   (restored ${odd.restoredWindow}, first window ${odd.firstWindow})` : '';
      const verdict = toWindow.max < TARGET_MS ? 'met' : 'MISSED';
      lines.push(
        `  ${describe(s)}  ${`${ms(toWindow.min)} / ${ms(toWindow.median)} / ${ms(toWindow.max)}`.padStart(34)}  ` +
          `${ms(median((r) => r.toRestart)).padStart(9)}${ms(median((r) => r.toRecovered)).padStart(10)}` +
          `${ms(median((r) => r.toFailedWindow)).padStart(10)}${note}`,
      );
      if (verdict !== 'met') lines.push(`    target < ${TARGET_MS} ms: MISSED`);
    }
    const worst = Math.max(...SETTINGS.map((s) => figures[`${keyOf(s)}MsMax`]!));
    lines.push(
      `  target < ${TARGET_MS} ms (small state), worst run of every setting ${worst} ms: ${worst < TARGET_MS ? 'met' : 'MISSED'}`,
    );
    return { lines, figures };
  },
};

function ms(v: number): string {
  return v.toFixed(1).padStart(6);
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
