import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { launch, MemorySnapshotStore, type StatusEvent } from '../../src/index.ts';
import { scratchDirs } from '../recovery/fixtures.ts';
import gateApp from './apps/setup-gate.ts';

/*
 * Once a graceful stop is asked for, a failure ends the run instead of being restarted: a setup() that
 * keeps failing (a server that stays down) used to hold a Ctrl-C up for every restart the intensity
 * allows, with its backoff (with Redis down, 5 × 30 s). In one thread and on containers alike.
 */
const scratchDir = scratchDirs('stop-then-failure');

afterEach(() => {
  delete process.env.STOP_GATE;
  delete process.env.STOP_GATE_SIGNAL;
});

for (const containers of [0, 2]) {
  test(`a failure after run.stop() ends the run at once, not restarted (containers: ${containers})`, async () => {
    const dir = scratchDir();
    const gate = join(dir, 'gate');
    process.env.STOP_GATE = gate;
    const run = await launch(gateApp, {
      store: containers === 0 ? new MemorySnapshotStore() : join(dir, 'store'),
      containers,
      ...(containers > 0 ? { module: new URL('./apps/setup-gate.ts', import.meta.url) } : {}),
      streamingWindowMs: 50,
    });
    const events: StatusEvent[] = [];
    run.on('status', (e) => events.push(e));
    const stopped = run.stop();
    writeFileSync(gate, '');
    const failure = await run.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    await stopped.catch(() => {});
    expect(failure).toMatchObject({ code: 'SLUICE_OPERATOR_FAILED', actorId: 'source' });
    expect((failure as Error).message).toContain('not restarted: a stop was requested');
    expect(events.filter((e) => e.type === 'restart')).toEqual([]);
    expect(events.some((e) => e.type === 'failure')).toBe(true);
  }, 30_000);
}

/*
 * A setup() that waits on something outside (Redis down at start-up) and hands the wait
 * OperatorContext.stopSignal: a stop ends the wait at once and the run as a stop, not a failure, before
 * any window (the source is not set up, so nothing may run). It used to wait out the connect timeout
 * (30 s) and end as a failure.
 */
for (const containers of [0, 2]) {
  test(`a stop during a setup that waits on the stop signal ends the run as a stop (containers: ${containers})`, async () => {
    const dir = scratchDir();
    process.env.STOP_GATE_SIGNAL = '1';
    const run = await launch(gateApp, {
      store: join(dir, 'store'),
      containers,
      ...(containers > 0 ? { module: new URL('./apps/setup-gate.ts', import.meta.url) } : {}),
      streamingWindowMs: 50,
    });
    const events: StatusEvent[] = [];
    run.on('status', (e) => events.push(e));
    await new Promise<void>((resolve) => run.on('status', (e) => e.type === 'started' && resolve()));
    await new Promise((r) => setTimeout(r, 300)); // the setup is waiting by now
    const asked = performance.now();
    await run.stop();
    await run.done;
    // Far below the 600 s the setup would wait (a generous bound for a loaded machine, not a timing).
    expect(performance.now() - asked).toBeLessThan(15_000);
    expect(events.filter((e) => e.type === 'failure' || e.type === 'restart')).toEqual([]);
    const warning = events.find((e) => e.type === 'warning');
    expect(warning).toMatchObject({ message: expect.stringContaining('setup of source ended by the stop') });
    expect(events.find((e) => e.type === 'stopped')).toMatchObject({
      reason: 'stop',
      window: 0,
      committed: 0,
    });
  }, 30_000);
}
