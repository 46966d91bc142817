import fc from 'fast-check';
import { expect, test } from 'vitest';
import { planPhysical } from '../../src/index.ts';
import {
  chaos,
  describeDifference,
  describeVerdict,
  type Fault,
  faultScheduleArb,
  firstDifference,
  isContainerFault,
  runWithFaults,
} from '../../src/testkit/index.ts';
import app from './apps/partitioned-sums.ts';

/* Real worker threads: a launch spawns its containers, seconds each on a loaded machine. */
const MODULE = new URL('./apps/partitioned-sums.ts', import.meta.url);

test('fault schedules for containers add kills and hangs of existing containers, and no timing faults', () => {
  const plan = planPhysical(app.dag());
  const o = { windows: 12, checkpointWindowCount: 2, maxFaults: 6 };
  const onThree = fc
    .sample(faultScheduleArb(plan, { ...o, containers: 3 }), { numRuns: 300, seed: 7 })
    .flat();
  const kinds = new Set(onThree.map((f) => f.kind));
  expect(kinds).toContain('container-kill');
  expect(kinds).toContain('container-hang');
  expect(kinds).not.toContain('cut');
  for (const f of onThree.filter(isContainerFault)) expect([0, 1, 2]).toContain(f.container);
  // Throws name operator actors only: a default unifier's class cannot be wrapped inside a container.
  for (const f of onThree) if (f.kind === 'throw') expect(f.actor).not.toContain('unifier');
  const inThread = fc.sample(faultScheduleArb(plan, o), { numRuns: 300, seed: 7 }).flat();
  expect(inThread.some(isContainerFault)).toBe(false);
  expect(inThread.some((f) => f.kind === 'cut')).toBe(true);
});

test('runWithFaults on 2 containers: a kill, a hang, a throw and a relaunch leave every window as in one thread', async () => {
  const options = { windows: 10, checkpointWindowCount: 2 };
  const expected = await runWithFaults(app, options);
  expect(expected.error).toBeUndefined();
  const faults: Fault[] = [
    { kind: 'container-kill', container: 1, window: 4 },
    { kind: 'container-hang', container: 0, window: 6 },
    { kind: 'throw', actor: 'sums#1', window: 8, call: 'tuple', tuple: 2 },
    { kind: 'relaunch', window: 7 },
  ];
  const actual = await runWithFaults(app, {
    ...options,
    faults,
    containers: 2,
    module: MODULE,
    heartbeatTimeoutMs: 1_500,
  });
  expect(actual.error).toBeUndefined();
  const diff = firstDifference(expected.outputs, actual.outputs);
  expect(diff && describeDifference(diff)).toBeUndefined();
  expect(actual.replayMismatches).toEqual([]);
  expect(new Set(actual.faultsFired)).toEqual(new Set(faults));
  expect(actual.relaunches).toBe(1);
  expect(
    actual.restoredAt.some((w) => w > 0),
    'restored from a checkpoint',
  ).toBe(true);
  expect(expected.outputs.get('sink')?.size).toBe(10);
}, 240_000);

test('chaos on 2 containers: schedules with container faults, compared with a run in one thread', async () => {
  const verdict = await chaos(app, {
    runs: 2,
    seed: 7, // schedules that kill containers at windows 5 and 6
    windows: 6,
    maxFaults: 2,
    containers: 2,
    module: MODULE,
  });
  expect(verdict.ok, describeVerdict(verdict)).toBe(true);
  expect(verdict.runs).toBe(2);
  expect(verdict.containerFaultsFired).toBeGreaterThan(0);
  expect(describeVerdict(verdict)).toMatch(/\(\d+ container kills or hangs\)/);
}, 240_000);

test('container faults are ignored in one thread', async () => {
  const r = await runWithFaults(app, {
    windows: 4,
    checkpointWindowCount: 2,
    faults: [{ kind: 'container-kill', container: 0, window: 2 }],
  });
  expect(r.error).toBeUndefined();
  expect(r.faultsFired).toEqual([]);
  expect(r.restoredAt).toEqual([]);
});
