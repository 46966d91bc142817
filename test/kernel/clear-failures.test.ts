/**
 * Failures before the first window (setup, an operator's constructor during a recovery) are handled like
 * any other failure, and say where they happened; a state that would not restore is refused at once.
 */
import { describe, expect, it } from 'vitest';
import { Collected, CollectSink, SequenceSource } from '../../actors/index.ts';
import {
  type Application,
  application,
  launch,
  MemorySnapshotStore,
  Operator,
  type OperatorContext,
  OperatorFailure,
  RestartStrategy,
} from '../../src/index.ts';
import { eventsOf, runToEnd, start } from './kit.ts';

/** Throws left per fault key: module level, so that a restarted instance sees what already fired. */
const left = new Map<string, number>();

function trip(key: string | undefined): void {
  if (key === undefined) return;
  const n = left.get(key) ?? 0;
  if (n <= 0) return;
  left.set(key, n - 1);
  throw new Error(`boom (${key})`);
}

interface Faults {
  /** setup() throws (or, with `async`, rejects) while this key has throws left. */
  setup?: string;
  async?: boolean;
  /** The constructor throws while this key has throws left. */
  construct?: string;
  /** A tuple of `window` throws once; firing, it gives `arm[0]` `arm[1]` throws (a fault in the recovery). */
  tuple?: { key: string; window: number; arm?: [string, number] };
}

/** A running sum (its output depends on its restored state) with the faults its props name. */
class Running extends Operator<{ sum: number }, Faults> {
  readonly out = this.output<number>();
  private ctx!: OperatorContext;
  readonly in = this.input<number>((n) => {
    const fault = this.props.tuple;
    if (fault && this.ctx.windowId === fault.window && (left.get(fault.key) ?? 0) > 0) {
      if (fault.arm) left.set(fault.arm[0], fault.arm[1]);
      trip(fault.key);
    }
    this.state.sum += n;
    this.out.emit(this.state.sum);
  });

  constructor(props?: Faults) {
    super(props);
    trip(props?.construct);
  }

  override initialState() {
    return { sum: 0 };
  }

  override setup(ctx: OperatorContext): void | Promise<void> {
    this.ctx = ctx;
    if (this.props.async) return Promise.resolve().then(() => trip(this.props.setup));
    trip(this.props.setup);
  }
}

/** A CollectSink whose constructor throws while its `construct` key has throws left. */
class FlakySink extends CollectSink<number> {
  constructor(props?: { into: Collected<number>; construct?: string }) {
    super(props);
    trip(props?.construct);
  }
}

function pipeline(
  name: string,
  into: Collected<number>,
  faults: Faults,
  sinkConstruct?: string,
): Application {
  return application(name, (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 20, batch: 7 });
    const op = dag.add('running', Running, faults);
    const sink = dag.add('sink', FlakySink, { into, construct: sinkConstruct });
    dag.stream('numbers', src.out, op.in).locality('container');
    dag.stream('sums', op.out, sink.in).locality('container');
  });
}

const WINDOWS = 9;
const options = { windows: WINDOWS, checkpointWindowCount: 2 };

async function reference(): Promise<Collected<number>> {
  const out = new Collected<number>();
  await runToEnd(pipeline('reference', out, {}), options);
  expect(out.all()).toHaveLength(WINDOWS * 20);
  return out;
}

async function failureOf(done: Promise<void>): Promise<OperatorFailure> {
  const err = await done.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OperatorFailure);
  return err as OperatorFailure;
}

describe('a setup() that fails', () => {
  it.each([false, true])(
    'once at launch (async: %s) is restarted, and the output equals a fault-free run',
    async (async) => {
      const expected = await reference();
      const key = `setup-once-${async}`;
      left.set(key, 1);
      const out = new Collected<number>();
      const { events } = await runToEnd(pipeline('setup-once', out, { setup: key, async }), options);
      expect(left.get(key)).toBe(0);
      const failures = eventsOf(events, 'failure');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ operator: 'running', phase: 'setup', window: 0 });
      expect(failures[0]!.error.message).toBe(
        'operator "running" (running) failed during setup, before window 1 (starting from scratch): boom (' +
          `${key})`,
      );
      expect(eventsOf(events, 'recovered')).toHaveLength(1);
      expect(out.windows).toEqual(expected.windows);
    },
  );

  it('every time ends the run after the restart intensity, naming operator, window and phase', async () => {
    const key = 'setup-always';
    left.set(key, 1000);
    const restart = RestartStrategy.restart().withLimit(2, 60_000).withBackoff(0, 0);
    const { run, events } = await start(pipeline('setup-always', new Collected(), { setup: key }), {
      ...options,
      restart,
    });
    const err = await failureOf(run.done);
    expect(err).toMatchObject({ operator: 'running', actorId: 'running', window: 0, phase: 'setup' });
    expect(err.message).toMatch(
      /^operator "running" \(running\) failed during setup, before window 1 \(starting from scratch\): boom \(setup-always\); not restarted: more than 2 restarts within 60000 ms$/,
    );
    expect(eventsOf(events, 'failure')).toHaveLength(3);
    expect(eventsOf(events, 'restart')).toHaveLength(2);
  });

  it('during a recovery is restarted too, at the same checkpoint', async () => {
    const expected = await reference();
    const key = 'setup-in-recovery';
    left.set(key, 0);
    left.set('tuple-then-setup', 1);
    const faults: Faults = { setup: key, tuple: { key: 'tuple-then-setup', window: 5, arm: [key, 1] } };
    const out = new Collected<number>();
    const { events } = await runToEnd(pipeline('setup-in-recovery', out, faults), options);
    expect(eventsOf(events, 'failure').map((f) => [f.phase, f.window])).toEqual([
      ['tuple', 5],
      ['setup', 4],
    ]);
    // The restart whose setup failed again did not recover: one recovered event, after the second restart.
    expect(eventsOf(events, 'restart').map((r) => [r.restarts, r.window])).toEqual([
      [1, 4],
      [2, 4],
    ]);
    expect(eventsOf(events, 'recovered').map((r) => r.window)).toEqual([4]);
    expect(out.windows).toEqual(expected.windows);
  });
});

describe('an operator constructor that throws during a recovery', () => {
  it('is a failure in phase construct at the window restored from, and is restarted', async () => {
    const expected = await reference();
    left.set('tuple-then-construct', 1);
    const faults: Faults = {
      construct: 'construct-once',
      tuple: { key: 'tuple-then-construct', window: 5, arm: ['construct-once', 1] },
    };
    const out = new Collected<number>();
    const { events } = await runToEnd(pipeline('construct-once', out, faults), options);
    const failures = eventsOf(events, 'failure');
    expect(failures.map((f) => [f.operator, f.phase, f.window])).toEqual([
      ['running', 'tuple', 5],
      ['running', 'construct', 4],
    ]);
    expect(failures[1]!.error.message).toBe(
      'operator "running" (running) failed during construct, before window 5 (from the checkpoint of window 4): boom (construct-once)',
    );
    expect(eventsOf(events, 'recovered')).toHaveLength(1);
    expect(out.windows).toEqual(expected.windows);
  });

  it('downstream of the failed actor: the next recovery rebuilds the whole first set', async () => {
    const expected = await reference();
    left.set('tuple-then-sink', 1);
    const faults: Faults = { tuple: { key: 'tuple-then-sink', window: 5, arm: ['sink-construct', 1] } };
    const out = new Collected<number>();
    const { events } = await runToEnd(pipeline('construct-sink', out, faults, 'sink-construct'), options);
    expect(eventsOf(events, 'failure').map((f) => [f.operator, f.phase])).toEqual([
      ['running', 'tuple'],
      ['sink', 'construct'],
    ]);
    const restarts = eventsOf(events, 'restart');
    expect(restarts[1]!.actors).toEqual(expect.arrayContaining(['running', 'sink']));
    expect(out.windows).toEqual(expected.windows);
  });

  it('every time ends the run after the restart intensity with that failure', async () => {
    left.set('tuple-then-always', 1);
    const faults: Faults = {
      construct: 'construct-always',
      tuple: { key: 'tuple-then-always', window: 5, arm: ['construct-always', 1000] },
    };
    const restart = RestartStrategy.restart().withLimit(2, 60_000).withBackoff(0, 0);
    const { run } = await start(pipeline('construct-always', new Collected(), faults), {
      ...options,
      restart,
    });
    const err = await failureOf(run.done);
    expect(err).toMatchObject({ operator: 'running', window: 4, phase: 'construct' });
    expect(err.message).toMatch(/during construct, before window 5 .*; not restarted: more than 2 restarts/);
  });
});

class Counter {
  n = 0;
  inc(): void {
    this.n++;
  }
}

/** Keeps per-device state; with `bad`, a class instance (or, at `lateWindow`, a function at the top). */
class Devices extends Operator<
  { byDevice: Map<string, { count: number; handler?: unknown }>; hook?: unknown },
  { bad?: boolean; lateWindow?: number }
> {
  private ctx!: OperatorContext;
  readonly in = this.input<number>((n) => {
    const id = `d${n % 10}`;
    const entry = this.state.byDevice.get(id) ?? { count: 0 };
    entry.count++;
    if (this.props.bad && id === 'd7') entry.handler = new Counter();
    this.state.byDevice.set(id, entry);
    if (this.ctx.windowId === this.props.lateWindow) this.state.hook = () => n;
  });

  override initialState() {
    return { byDevice: new Map() };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }
}

function devices(props: { bad?: boolean; lateWindow?: number }): Application {
  return application('devices', (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 20 });
    const op = dag.add('devices', Devices, props);
    dag.stream('numbers', src.out, op.in);
  });
}

describe('a state that would not restore as it is', () => {
  it('is refused at the first checkpoint, not restarted, naming operator and path; the store stays relaunchable', async () => {
    const store = new MemorySnapshotStore();
    const run = await launch(devices({ bad: true }), { store, virtualTime: true, ...options });
    const events: string[] = [];
    run.on('status', (e) => events.push(e.type));
    const err = await failureOf(run.done);
    expect(err.code).toBe('SLUICE_STATE_NOT_RESTORABLE');
    expect(err.restartable).toBe(false);
    expect(err).toMatchObject({ operator: 'devices', actorId: 'devices', window: 2, phase: 'checkpoint' });
    expect(err.message).toContain('operator "devices" (devices) failed in window 2 during checkpoint');
    expect(err.message).toContain(
      'state.byDevice.get("d7").handler is an instance of class Counter, which a checkpoint cannot restore as such, so no checkpoint of this state was written',
    );
    expect(err.message).toMatch(/not restarted: restarting cannot fix it$/);
    expect((err.cause as { code: string }).code).toBe('SLUICE_STATE_NOT_RESTORABLE');
    expect(events.filter((t) => t === 'restart')).toEqual([]);
    await store.open();
    expect(await store.snapshotWindows('devices')).toEqual([]);
    await store.close();

    // A fixed build relaunches on that store.
    const fixed = await launch(devices({}), {
      store,
      virtualTime: true,
      windows: 4,
      checkpointWindowCount: 2,
    });
    await fixed.done;
    expect(fixed.stats().committed).toBe(4);
  });

  it('later checkpoints sample the top of the state: a function put there in window 5 is refused at 6', async () => {
    const { run, events } = await start(devices({ lateWindow: 5 }), options);
    const err = await failureOf(run.done);
    expect(err.code).toBe('SLUICE_STATE_NOT_RESTORABLE');
    expect(err.window).toBe(6);
    expect(err.message).toContain('state.hook is a function');
    expect(eventsOf(events, 'checkpoint').map((c) => c.window)).toContain(4);
  });
});
