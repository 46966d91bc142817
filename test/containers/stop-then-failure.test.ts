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
