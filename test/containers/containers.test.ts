import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ContainerFailure } from '../../src/container/errors.ts';
import { PORT_CREDIT_FACTOR } from '../../src/container/port-channel.ts';
import { launch, OperatorFailure, RestartStrategy } from '../../src/index.ts';
import { readWindowFiles, removeDir, tempDir } from '../recovery/fixtures.ts';
import busyApp, { BUSY_SLOW_TUPLES, BUSY_TUPLES } from './apps/busy.ts';
import chainApp from './apps/chain.ts';
import slowApp from './apps/slow.ts';
import sumsApp from './apps/sums.ts';

/*
 * Real worker threads: each launch spawns its containers (a second or more each on a loaded machine), so
 * each test is one or two runs of a dozen virtual-time windows.
 */
const SUMS = new URL('./apps/sums.ts', import.meta.url);
const WINDOWS = 12;
const dirs: string[] = [];

afterEach(() => {
  // The apps' settings and drills (SUMS_*, CHAIN_*, SLOW_*, BUSY_*): workers copy the environment when they start.
  for (const v of Object.keys(process.env)) if (/^(SUMS|CHAIN|SLOW|BUSY)_/.test(v)) delete process.env[v];
  for (const d of dirs.splice(0)) removeDir(d);
});

function scratch(): string {
  const dir = tempDir('containers');
  dirs.push(dir);
  return dir;
}

let expectedFiles: Promise<Map<string, string>> | undefined;

/** The sums application's window files from a run in this thread (the reference; run once). */
function reference(): Promise<Map<string, string>> {
  expectedFiles ??= runReference();
  return expectedFiles;
}

async function runReference(): Promise<Map<string, string>> {
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  const run = await launch(sumsApp, { store: join(dir, 'store'), windows: WINDOWS, virtualTime: true });
  await run.done;
  return readWindowFiles(join(dir, 'out'));
}

test('an application on 2 containers writes the window files of a run in one thread', async () => {
  const expected = await reference();
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  const run = await launch(sumsApp, {
    containers: 2,
    module: SUMS,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
  });
  expect(new Set(run.plan.actors.map((a) => a.container))).toEqual(new Set([0, 1]));
  await run.done;
  expect(run.stats()).toMatchObject({ window: WINDOWS, committed: WINDOWS, restarts: 0 });
  expect(readWindowFiles(join(dir, 'out'))).toEqual(expected);
  expect(expected.size).toBe(WINDOWS);
}, 120_000);

test('a relaunch on the same store continues where containers left off, on containers or in one thread', async () => {
  const expected = await reference();
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  const store = join(dir, 'store');
  const first = await launch(sumsApp, { containers: 2, module: SUMS, store, windows: 5, virtualTime: true });
  await first.done;
  expect(first.stats().committed).toBe(5);
  const second = await launch(sumsApp, { store, windows: 9, virtualTime: true });
  await second.done;
  // Stopped gracefully mid-run (a stop() is a window boundary every container agrees on).
  const third = await launch(sumsApp, { containers: 3, module: SUMS, store, virtualTime: true });
  await new Promise<void>((resolve) =>
    third.on('status', (e) => {
      if (e.type === 'window' && e.window >= 10) resolve();
    }),
  );
  await third.stop();
  const stopped = third.stats().committed;
  expect(stopped).toBeGreaterThanOrEqual(10);
  const fourth = await launch(sumsApp, {
    containers: 2,
    module: SUMS,
    store,
    windows: Math.max(WINDOWS, stopped + 1),
    virtualTime: true,
  });
  await fourth.done;
  const files = readWindowFiles(join(dir, 'out'));
  for (const [name, body] of expected) expect(files.get(name), name).toBe(body);
}, 180_000);

test('a killed container and one stuck in an endless loop are replaced; the output is unchanged', async () => {
  const expected = await reference();
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  process.env.SUMS_HANG = join(dir, 'hang-marker');
  // The hang comes well after the kill: windows in flight are bounded (WINDOWS_IN_FLIGHT, 4), so no sums
  // actor reaches window 10 before container 1 reaches window 2. (With the hang at 8 and the kill at 3, a
  // fast sums container could hang first, and the kill's restart replaced it before its heartbeat was due.)
  process.env.SUMS_DRILL_WINDOW = '10';
  const failures: string[] = [];
  const counted: number[] = [];
  const run = await launch(sumsApp, {
    containers: 3,
    module: SUMS,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    heartbeatTimeoutMs: 1500,
    faults: [{ kind: 'container', container: 1, window: 2 }],
  });
  run.on('status', (e) => {
    if (e.type === 'failure') failures.push(e.error.message);
    if (e.type === 'window') counted.push(e.tuples);
  });
  await run.done;
  expect(existsSync(process.env.SUMS_HANG)).toBe(true);
  // Both drills show up (a loaded machine may add a late heartbeat: one more restart, the same output).
  expect(failures).toContainEqual(
    expect.stringMatching(
      /^container 1 \(actors .+\) failed after window \d+: killed by the drill container:1@2/,
    ),
  );
  // The worker told which actor it was calling, in which window (the loop is in window 10), and the
  // headline names that window too (it said "after window 0" when the worker had looped before
  // reporting the windows it finished since a restart).
  expect(failures).toContainEqual(
    expect.stringMatching(
      /^container \d \(actors .+\) failed in window 10: sent no heartbeat for \d+ ms \(limit 1500 ms\): actor \S+ \(or an actor fused with it\) is stuck in synchronous code in window 10$/,
    ),
  );
  // …and the actor it names is the one that loops (it wrote its id into the marker).
  const looping = readFileSync(process.env.SUMS_HANG!, 'utf8').trim();
  expect(failures.some((f) => f.includes(`actor ${looping} (or an actor fused with it)`))).toBe(true);
  expect(run.stats().restarts).toBe(failures.length);
  // Tuples emitted so far: replaced containers count from 0 again, the run's count only grows.
  expect(counted.every((n, i) => i === 0 || n >= counted[i - 1]!)).toBe(true);
  expect(run.stats().tuples).toBeGreaterThanOrEqual(counted.at(-1)!);
  expect(readWindowFiles(join(dir, 'out'))).toEqual(expected);
}, 180_000);

test.each([1, WINDOWS])(
  'drills on every container at window %i all fire, one on a container already being replaced too',
  async (window) => {
    const expected = await reference();
    const dir = scratch();
    process.env.SUMS_OUT = join(dir, 'out');
    const drills: string[] = [];
    const run = await launch(sumsApp, {
      containers: 3,
      module: SUMS,
      store: join(dir, 'store'),
      windows: WINDOWS,
      virtualTime: true,
      faults: [0, 1, 2].map((container) => ({ kind: 'container' as const, container, window })),
    });
    run.on('status', (e) => {
      if (e.type === 'failure' && e.error instanceof ContainerFailure && e.error.drill)
        drills.push(e.error.drill);
    });
    await run.done;
    expect(drills.sort()).toEqual([0, 1, 2].map((c) => `container:${c}@${window}`));
    expect(readWindowFiles(join(dir, 'out'))).toEqual(expected);
  },
  180_000,
);

test('a hang that recurs after every restart ends the run: restarts in a row with no commit escalate, however slow', async () => {
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  process.env.SUMS_HANG = join(dir, 'hang-marker');
  process.env.SUMS_ALWAYS = '1';
  process.env.SUMS_DRILL_WINDOW = '4';
  const run = await launch(sumsApp, {
    containers: 2,
    module: SUMS,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    heartbeatTimeoutMs: 1000,
    // A period far shorter than a hang takes to be found: only the restarts in a row can end it.
    restart: RestartStrategy.restart().withLimit(2, 200),
  });
  await expect(run.done).rejects.toThrow(
    /stuck in synchronous code in window 4; not restarted: more than 2 restarts in a row with no window committed in between/,
  );
  // Two in a row after the last commit; on a loaded machine the commit may still move from 0 to 2 between
  // the first restarts (checkpoints every 2 windows, the hang in window 4), which starts the count again.
  expect(run.stats().restarts).toBeGreaterThanOrEqual(2);
  expect(run.stats().restarts).toBeLessThanOrEqual(4);
}, 120_000);

test.each([
  ['fast', BUSY_TUPLES],
  ['slow', BUSY_SLOW_TUPLES],
])(
  'a call that outlasts the heartbeat limit while it emits (%s) is busy, not hung: no restart',
  async (pace, tuples) => {
    const dir = scratch();
    process.env.BUSY_OUT = join(dir, 'out');
    if (pace === 'slow') process.env.BUSY_SLOW = '1';
    const failures: string[] = [];
    const run = await launch(busyApp, {
      containers: 2,
      module: new URL('./apps/busy.ts', import.meta.url),
      store: join(dir, 'store'),
      windows: 4,
      virtualTime: true,
      heartbeatTimeoutMs: 1500,
    });
    run.on('status', (e) => {
      if (e.type === 'failure') failures.push(e.error.message);
    });
    const started = performance.now();
    await run.done;
    // Busy's window-3 end ran ~4.5 s in one synchronous call, three times the limit.
    expect(performance.now() - started).toBeGreaterThan(4500);
    expect(failures).toEqual([]);
    expect(run.stats().restarts).toBe(0);
    const window3 = readWindowFiles(join(dir, 'out')).get('window-000000003.jsonl');
    expect(window3?.trim().split('\n')).toHaveLength(10 + tuples);
  },
  120_000,
);

test('a slow operator working through a long batch (25 ms a tuple, 1.5 s a batch) is not hung: no restart', async () => {
  const dir = scratch();
  process.env.BUSY_OUT = join(dir, 'out');
  // 25 ms a tuple is more than a 64th of the limit: progress counted every 64 tuples missed it.
  process.env.BUSY_PER_TUPLE_MS = '25';
  process.env.BUSY_PER_WINDOW = '60';
  const failures: string[] = [];
  const run = await launch(busyApp, {
    containers: 2,
    module: new URL('./apps/busy.ts', import.meta.url),
    store: join(dir, 'store'),
    windows: 2,
    virtualTime: true,
    // Each batch takes 1.5 s with no heartbeat (and, before tuples taken in counted, was replaced).
    heartbeatTimeoutMs: 1000,
  });
  run.on('status', (e) => {
    if (e.type === 'failure') failures.push(e.error.message);
  });
  await run.done;
  expect(failures).toEqual([]);
  expect(run.stats().restarts).toBe(0);
  const files = readWindowFiles(join(dir, 'out'));
  expect([1, 2].map((w) => files.get(`window-00000000${w}.jsonl`)?.trim())).toEqual(['60', '60']);
}, 60_000);

test('a killed container is replaced alone with those downstream of it; live upstream containers replay into it', async () => {
  const CHAIN = new URL('./apps/chain.ts', import.meta.url);
  const ref = scratch();
  process.env.CHAIN_OUT = join(ref, 'out');
  const undisturbed = await launch(chainApp, {
    store: join(ref, 'store'),
    windows: WINDOWS,
    virtualTime: true,
  });
  await undisturbed.done;
  const dir = scratch();
  process.env.CHAIN_OUT = join(dir, 'out');
  const restarts: (readonly string[])[] = [];
  const run = await launch(chainApp, {
    containers: 3,
    module: CHAIN,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    faults: [
      { kind: 'container', container: 2, window: 4 },
      // Past 8: input operators run at most 4 windows ahead of the application's done window, so at 8
      // the middle container could reach its drill as the sink reaches window 4, and be killed first.
      { kind: 'container', container: 1, window: 10 },
    ],
  });
  expect(run.plan.actors.map((a) => `${a.id}@${a.container}`)).toEqual(['numbers@0', 'sums@1', 'files@2']);
  run.on('status', (e) => {
    if (e.type === 'restart') restarts.push(e.actors);
  });
  await run.done;
  // The sink's container alone, then the middle one with the sink; the source's container never.
  expect(restarts).toEqual([['files'], ['sums', 'files']]);
  expect(readWindowFiles(join(dir, 'out'))).toEqual(readWindowFiles(join(ref, 'out')));
}, 180_000);

test('a container that cannot build its actors, whose worker exits or throws uncaught, is replaced; the output is unchanged', async () => {
  const CHAIN = new URL('./apps/chain.ts', import.meta.url);
  const ref = scratch();
  process.env.CHAIN_OUT = join(ref, 'out');
  const undisturbed = await launch(chainApp, {
    store: join(ref, 'store'),
    windows: WINDOWS,
    virtualTime: true,
  });
  await undisturbed.done;
  const dir = scratch();
  process.env.CHAIN_OUT = join(dir, 'out');
  process.env.SUMS_EXIT = join(dir, 'exit-marker');
  process.env.SUMS_UNCAUGHT = join(dir, 'uncaught-marker');
  process.env.SUMS_INIT_FAIL = join(dir, 'init-marker');
  const failures: string[] = [];
  const run = await launch(chainApp, {
    containers: 3,
    module: CHAIN,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
  });
  run.on('status', (e) => {
    if (e.type === 'failure') failures.push(e.error.message);
  });
  await run.done;
  expect(failures).toContainEqual(
    expect.stringMatching(
      /^container 1 \(actors sums\) failed after window \d+: its worker exited with code 7/,
    ),
  );
  expect(failures).toContainEqual(
    expect.stringMatching(
      /^container 1 \(actors sums\) failed after window \d+: threw an uncaught error: uncaught in a container/,
    ),
  );
  // The uncaught error's worker then exits (code 1): the same death, not a second failure.
  expect(failures.filter((f) => /exited with code 1\b/.test(f))).toEqual([]);
  // Before all that: the container could not even build its actors (initialState threw), once.
  expect(failures[0]).toMatch(
    /^container 1 \(actors sums\) failed after window 0: could not restore its actors: .*injected: initialState fails once/,
  );
  expect(readWindowFiles(join(dir, 'out'))).toEqual(readWindowFiles(join(ref, 'out')));
}, 180_000);

test('an operator failing in a container restarts the containers; past the intensity it escalates', async () => {
  const expected = await reference();
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  process.env.SUMS_THROW = join(dir, 'throw-marker');
  const run = await launch(sumsApp, {
    containers: 2,
    module: SUMS,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
  });
  await run.done;
  expect(run.stats().restarts).toBeGreaterThanOrEqual(1);
  expect(readWindowFiles(join(dir, 'out'))).toEqual(expected);

  // The same drill under a strategy that never restarts: the run fails with the operator's failure.
  const again = scratch();
  process.env.SUMS_OUT = join(again, 'out');
  process.env.SUMS_THROW = join(again, 'throw-marker');
  const stopped = await launch(sumsApp, {
    containers: 2,
    module: SUMS,
    store: join(again, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    restart: RestartStrategy.stop(),
  });
  const error = await stopped.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperatorFailure);
  expect((error as Error).message).toMatch(
    /operator "sums" \(sums#\d\) failed in window 6 during tuple: injected: sums fail once; not restarted: the restart strategy restarts nothing/,
  );
}, 180_000);

test('a killed container past the restart intensity fails the run, naming the container, its actors and the window', async () => {
  const dir = scratch();
  process.env.SUMS_OUT = join(dir, 'out');
  const run = await launch(sumsApp, {
    containers: 2,
    module: SUMS,
    store: join(dir, 'store'),
    windows: WINDOWS,
    virtualTime: true,
    restart: RestartStrategy.stop(),
    faults: [{ kind: 'container', container: 0, window: 2 }],
  });
  const error = (await run.done.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message?: string; container?: number };
  expect(error?.code).toBe('SLUICE_CONTAINER_FAILED');
  expect(error.container).toBe(0);
  const actors = run.plan.actors.filter((a) => a.container === 0).map((a) => a.id);
  expect(error.message).toContain(`container 0 (actors ${actors.join(', ')}) failed after window`);
  expect(error.message).toMatch(
    /killed by the drill container:0@2; not restarted: the restart strategy restarts nothing/,
  );
}, 120_000);

test('a slow container holds its producer back: the source never runs more than the credit ahead', async () => {
  const dir = scratch();
  process.env.SLOW_PROGRESS = dir;
  const run = await launch(slowApp, {
    containers: 2,
    module: new URL('./apps/slow.ts', import.meta.url),
    store: join(dir, 'store'),
  });
  const container = new Map(run.plan.actors.map((a) => [a.id, a.container]));
  expect(container.get('numbers')).not.toBe(container.get('slow'));
  const count = (name: string) => {
    const file = join(dir, name);
    return existsSync(file) ? Number(readFileSync(file, 'utf8')) || 0 : 0;
  };
  let maxAhead = 0;
  let consumed = 0;
  for (let i = 0; i < 300 && consumed < 100_000; i++) {
    await new Promise((r) => setTimeout(r, 50));
    consumed = count('consumed');
    maxAhead = Math.max(maxAhead, count('emitted') - consumed);
  }
  await run.kill();
  // The consumer takes ~10 ms per 1024 tuples; the source, in one window of a minute, would emit
  // millions meanwhile if nothing held it back. The credit is PORT_CREDIT_FACTOR × 16 messages of ≤ 1024
  // tuples (plus the batch being filled and 8,192 tuples of progress-file granularity on each side).
  expect(consumed).toBeGreaterThanOrEqual(100_000);
  expect(maxAhead).toBeLessThan(PORT_CREDIT_FACTOR * 16 * 1024 + 1024 + 2 * 8192);
}, 120_000);
