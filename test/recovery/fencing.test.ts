import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { FileSink, SequenceSource } from '../../actors/index.ts';
import {
  application,
  FencedOutputError,
  LevelSnapshotStore,
  launch,
  type OperatorContext,
  type StatusEvent,
} from '../../src/index.ts';
import { readWindowFiles, removeDir, tempDir } from './fixtures.ts';
import { AppendingSink, type AppendingSinkProps, LateApply, readAppended } from './late-apply.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function fresh(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

const WINDOWS = 8;
/** Small, so the held apply is given up on soon; the test waits on events, never on the clock. */
const LIFECYCLE_TIMEOUT_MS = 1_000;

function appendingApp(props: AppendingSinkProps) {
  return application(
    'appending',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 6 });
      const sink = dag.add('sink', AppendingSink, props, { partitions: 2 });
      dag.stream('numbers', src.out, sink.in).keyBy((n) => n % 2);
    },
    { checkpointWindowCount: 2 },
  );
}

async function runApp(app: ReturnType<typeof appendingApp>, store: string) {
  const run = await launch(app, {
    store,
    windows: WINDOWS,
    virtualTime: true,
    lifecycleTimeoutMs: LIFECYCLE_TIMEOUT_MS,
  });
  const events: StatusEvent[] = [];
  run.on('status', (e) => events.push(e));
  await run.done;
  return events;
}

/** What an undisturbed run appends, without the epochs (which differ between runs). */
async function undisturbedAppends() {
  const dir = fresh('fence-reference');
  await runApp(appendingApp({ dir: join(dir, 'out') }), join(dir, 'store'));
  return withoutEpochs(readAppended(join(dir, 'out')));
}

function withoutEpochs(appended: ReturnType<typeof readAppended>) {
  return new Map([...appended].map(([p, ws]) => [p, ws.map(({ window, tuples }) => ({ window, tuples }))]));
}

describe('an apply that settles after lifecycleTimeoutMs, after its replacement applied the same window', () => {
  test('is refused by the appending sink: every window is in the file exactly once, window 5 from the replacement', async () => {
    const expected = await undisturbedAppends();
    const dir = fresh('fence-late');
    const late = new LateApply(0, 5);
    const events = await runApp(appendingApp({ dir: join(dir, 'out'), late }), join(dir, 'store'));
    const outcome = await late.outcome;

    expect(events.some((e) => e.type === 'failure' && e.phase === 'endWindow' && e.window === 5)).toBe(true);
    expect(outcome).toBeInstanceOf(FencedOutputError);
    expect((outcome as FencedOutputError).code).toBe('SLUICE_FENCED');
    expect((outcome as FencedOutputError).epoch).toBe(late.zombieEpoch);
    const appended = readAppended(join(dir, 'out'));
    expect(withoutEpochs(appended)).toEqual(expected);
    expect(appended.get('p0')!.map((w) => w.window)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(appended.get('p0')!.find((w) => w.window === 5)!.epoch).toBeGreaterThan(late.zombieEpoch);
  });

  test('without the epoch check the same late apply appends window 5 twice (what fencing prevents)', async () => {
    const dir = fresh('fence-unfenced');
    const late = new LateApply(0, 5);
    await runApp(appendingApp({ dir: join(dir, 'out'), late, unfenced: true }), join(dir, 'store'));
    expect(await late.outcome).toBeUndefined();
    const windows = readAppended(join(dir, 'out'))
      .get('p0')!
      .map((w) => w.window);
    expect(windows.filter((w) => w === 5)).toHaveLength(2);
  });
});

/** Module-level: a FileSink's props are fixed, and the test needs to reach the running instances. */
let fileLate: LateApply | undefined;

/** A FileSink that writes each tuple with the epoch of the instance that applied it, and can be held. */
class EpochFileSink extends FileSink<number> {
  protected override applyWindow(window: number, tuples: number[], epoch: number): Promise<void> {
    const apply = () => super.applyWindow(window, tuples.map((n) => ({ n, epoch })) as never, epoch);
    return fileLate ? fileLate.around(this.ctx.partition, window, epoch, apply) : apply();
  }
}

function fileApp(dir: string) {
  return application(
    'files',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 4 });
      const sink = dag.add('sink', EpochFileSink, { dir });
      dag.stream('numbers', src.out, sink.in);
    },
    { checkpointWindowCount: 2 },
  );
}

test('FileSink refuses a late apply of a replaced instance: window 5 is written once, by the replacement, and no temporary file is left', async () => {
  const dir = fresh('fence-file');
  const late = new LateApply(0, 5);
  fileLate = late;
  try {
    await runApp(fileApp(join(dir, 'out')), join(dir, 'store'));
  } finally {
    fileLate = undefined;
  }
  const outcome = await late.outcome;
  expect(outcome).toBeInstanceOf(FencedOutputError);
  expect((outcome as FencedOutputError).epoch).toBe(late.zombieEpoch);
  const out = join(dir, 'out');
  expect([...readWindowFiles(out).keys()]).toEqual(
    Array.from({ length: WINDOWS }, (_, i) => `window-${String(i + 1).padStart(9, '0')}.jsonl`),
  );
  expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  const window5 = readFileSync(join(out, 'window-000000005.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { n: number; epoch: number });
  expect(window5.map((t) => t.n)).toEqual([16, 17, 18, 19]);
  expect(window5.every((t) => t.epoch > late.zombieEpoch)).toBe(true);
});

/** The epoch of every instance of the probe built, in order; and a failure to inject once. */
const built: number[] = [];
let failInWindow = 0;

class EpochProbe extends FileSink<number> {
  override async setup(ctx: OperatorContext): Promise<void> {
    built.push(ctx.epoch);
    await super.setup(ctx);
  }

  protected override applyWindow(window: number, tuples: number[], epoch: number): Promise<void> {
    if (window === failInWindow) {
      failInWindow = 0;
      throw new Error(`injected failure in window ${window}`);
    }
    return super.applyWindow(window, tuples, epoch);
  }
}

function probeApp(dir: string) {
  return application(
    'epochs',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 4 });
      const sink = dag.add('sink', EpochProbe, { dir });
      dag.stream('numbers', src.out, sink.in);
    },
    { checkpointWindowCount: 2 },
  );
}

test('every launch, relaunch and recovery raises the epoch, persisted in the store: instances see it strictly increasing', async () => {
  const reference = fresh('epochs-reference');
  await launch(probeApp(join(reference, 'out')), {
    store: join(reference, 'store'),
    windows: 10,
    virtualTime: true,
  }).then((r) => r.done);
  built.length = 0;

  const dir = fresh('epochs');
  const out = join(dir, 'out');
  const store = join(dir, 'store');
  const increasing = (epochs: number[]) => epochs.every((e, i) => i === 0 || e > epochs[i - 1]!);
  await (await launch(probeApp(out), { store, windows: 3, virtualTime: true })).done;
  expect(built).toHaveLength(1);

  const killed = await launch(probeApp(out), { store, windows: 6, virtualTime: true });
  killed.on('status', (e) => {
    if (e.type === 'window' && e.window === 5) killed.kill();
  });
  await killed.done.catch(() => {});
  expect(built).toHaveLength(2);

  failInWindow = 7;
  await (await launch(probeApp(out), { store, windows: 10, virtualTime: true })).done;
  expect(failInWindow).toBe(0);
  expect(built).toHaveLength(4);
  expect(increasing(built), `epochs ${built.join(', ')}`).toBe(true);

  const opened = new LevelSnapshotStore(store);
  await opened.open();
  try {
    expect(await opened.getMeta('epoch')).toBe(built[3]);
  } finally {
    await opened.close();
  }
  expect(readdirSync(join(out, '.fence'))).toEqual([String(built[3])]);
  expect(readWindowFiles(out)).toEqual(readWindowFiles(join(reference, 'out')));
});

test('a run on a fresh store outranks the runs that claimed its output before (epochs follow the clock too)', async () => {
  const dir = fresh('epochs-fresh-store');
  const out = join(dir, 'out');
  built.length = 0;
  await (await launch(probeApp(out), { store: join(dir, 'store-a'), windows: 2, virtualTime: true })).done;
  await (await launch(probeApp(out), { store: join(dir, 'store-b'), windows: 4, virtualTime: true })).done;
  expect(built).toHaveLength(2);
  expect(built[1]!).toBeGreaterThan(built[0]!);
  expect(readdirSync(join(out, '.fence'))).toEqual([String(built[1])]);
});
