import { afterEach, expect, test } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import { loadSnapshots } from '../../src/engine/restore.ts';
import {
  application,
  DurableMap,
  LevelSnapshotStore,
  launch,
  Operator,
  type StatusEvent,
} from '../../src/index.ts';
import { isIncrementalRecord, readRecord } from '../../src/storage/incremental-record.ts';
import { type Fault, firstDifference, runWithFaults } from '../../src/testkit/index.ts';
import { removeDir, tempDir } from './fixtures.ts';

const KEYS = 300;
const PER_WINDOW = 20;

/** Counts per key in a DurableMap; every 11th number deletes its key instead (so deletes must survive). */
class Tally extends Operator<{ counts: DurableMap<string, number> }, { keys: number }> {
  readonly out = this.output<string>();
  readonly in = this.input<number>((n) => {
    const key = `k${n % this.props.keys}`;
    if (n % 11 === 0) {
      this.state.counts.delete(key);
      this.out.emit(`${key}:deleted`);
      return;
    }
    const count = (this.state.counts.get(key) ?? 0) + 1;
    this.state.counts.set(key, count);
    this.out.emit(`${key}:${count}`);
  });

  override initialState() {
    const keys = Array.from({ length: this.props.keys }, (_, i): [string, number] => [`k${i}`, 0]);
    return { counts: new DurableMap<string, number>(keys) };
  }
}

/** The map Tally holds after `windows` windows, computed without the engine. */
function model(windows: number): Map<string, number> {
  const m = new Map<string, number>(Array.from({ length: KEYS }, (_, i) => [`k${i}`, 0]));
  for (let n = 0; n < windows * PER_WINDOW; n++) {
    const key = `k${n % KEYS}`;
    if (n % 11 === 0) m.delete(key);
    else m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

const app = (into: Collected<string>, keys = KEYS) =>
  application(
    'durable-tally',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: PER_WINDOW, batch: 7 });
      const tally = dag.add('tally', Tally, { keys });
      const sink = dag.add('sink', CollectSink<string>, { into });
      dag.stream('numbers', src.out, tally.in);
      dag.stream('counts', tally.out, sink.in);
    },
    { checkpointWindowCount: 2 },
  );

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

test('a DurableMap state killed and relaunched on its LevelDB store restores exactly (deletes included) from a base and a delta', async () => {
  const expected = new Collected<string>();
  await (
    await launch(app(expected), {
      store: new LevelSnapshotStore(tempDir('dm-a')),
      windows: 30,
      virtualTime: true,
    })
  ).done;

  const dir = tempDir('dm-b');
  dirs.push(dir);
  const actual = new Collected<string>();
  for (const killAt of [9, 22]) {
    const run = await launch(app(actual), { store: dir, windows: 30, virtualTime: true });
    run.on('status', (e) => {
      if (e.type === 'window' && e.window === killAt) void run.kill();
    });
    await run.done.catch(() => {});
  }
  const events: StatusEvent[] = [];
  const last = await launch(app(actual), { store: dir, windows: 30, virtualTime: true });
  last.on('status', (e) => events.push(e));
  await last.done;
  const started = events.find((e) => e.type === 'started');
  expect(started?.type === 'started' && started.restoredWindow).toBeGreaterThan(10);
  expect([...actual.windows]).toEqual([...expected.windows]);

  // What the store holds: incremental records, the newest a delta; restored, the model's map exactly.
  const store = new LevelSnapshotStore(dir);
  await store.open();
  try {
    const kinds = [];
    for (const w of await store.snapshotWindows('tally')) {
      const record = await store.loadSnapshot('tally', w);
      expect(isIncrementalRecord(record)).toBe(true);
      if (isIncrementalRecord(record)) kinds.push(readRecord(record).parts[0]!.kind);
    }
    expect(kinds).toContain('delta');
    const restored = (await loadSnapshots(store, ['tally'], 30)).get('tally')!;
    const counts = (restored.state as { counts: DurableMap<string, number> }).counts;
    expect(counts).toBeInstanceOf(DurableMap);
    expect(new Map(counts)).toEqual(model(30));
  } finally {
    await store.close();
  }
});

test('commit cleanup never deletes the base that the kept checkpoints of a DurableMap read', async () => {
  const dir = tempDir('dm-c');
  dirs.push(dir);
  await (await launch(app(new Collected<string>()), { store: dir, windows: 40, virtualTime: true })).done;
  const store = new LevelSnapshotStore(dir);
  await store.open();
  try {
    const windows = await store.snapshotWindows('tally');
    // Cleanup ran (windows deleted), yet the two newest checkpoints still restore.
    expect(windows[0]).toBeGreaterThan(2);
    for (const w of windows.slice(-2)) {
      const restored = (await loadSnapshots(store, ['tally'], w)).get('tally')!;
      expect(new Map((restored.state as { counts: DurableMap<string, number> }).counts)).toEqual(model(w));
    }
  } finally {
    await store.close();
  }
});

/** Fault schedules aimed at the incremental records: kills amid a window's writes, damage, failed writes. */
const schedules: Array<{ name: string; faults: Fault[] }> = [
  {
    name: 'killed after the first snapshot of window 12 landed',
    faults: [{ kind: 'relaunch', window: 12, atSnapshot: 1 }],
  },
  {
    name: 'killed after the second snapshot of window 14 landed',
    faults: [{ kind: 'relaunch', window: 14, atSnapshot: 2 }],
  },
  {
    name: 'a damaged delta, then a failure that needs it',
    faults: [
      { kind: 'corrupt', actor: 'tally', window: 14 },
      { kind: 'throw', actor: 'tally', window: 15, call: 'tuple', tuple: 3 },
    ],
  },
  {
    // Checkpoints 4, 6 and 8 are deltas on the base of window 2: both kept generations read it.
    name: 'a damaged base, then a relaunch that needs it',
    faults: [
      { kind: 'corrupt', actor: 'tally', window: 2 },
      { kind: 'relaunch', window: 9 },
    ],
  },
  {
    name: 'a failed delta write, then a kill',
    faults: [
      { kind: 'store', actor: 'tally', window: 10 },
      { kind: 'relaunch', window: 13 },
    ],
  },
];

test.each(schedules)(
  'a DurableMap state under faults ($name) gives the output of a fault-free run',
  async ({ faults }) => {
    const clean = await runWithFaults(app(new Collected<string>()), {
      windows: 24,
      checkpointWindowCount: 2,
    });
    const faulty = await runWithFaults(app(new Collected<string>()), {
      windows: 24,
      checkpointWindowCount: 2,
      faults,
    });
    expect(faulty.error).toBeUndefined();
    expect(faulty.faultsFired.length).toBe(faults.length);
    expect(faulty.restoredAt.length).toBeGreaterThan(0);
    expect(firstDifference(clean.outputs, faulty.outputs)).toBeUndefined();
  },
);

test('a DurableMap too large to encode in one turn is encoded in slices while the pipeline runs on, and restores exactly', async () => {
  // 80,000 keys: more than one slice (32,768 entries), so bases are encoded over several scheduler turns.
  const big = (into: Collected<string>) => app(into, 80_000);
  const faults: Fault[] = [
    { kind: 'relaunch', window: 6, atSnapshot: 2 },
    { kind: 'throw', actor: 'tally', window: 9, call: 'tuple', tuple: 5 },
  ];
  const clean = await runWithFaults(big(new Collected<string>()), { windows: 12, checkpointWindowCount: 2 });
  const faulty = await runWithFaults(big(new Collected<string>()), {
    windows: 12,
    checkpointWindowCount: 2,
    faults,
  });
  expect(faulty.error).toBeUndefined();
  expect(faulty.restoredAt.filter((w) => w > 0).length).toBeGreaterThan(0);
  expect(firstDifference(clean.outputs, faulty.outputs)).toBeUndefined();
});
