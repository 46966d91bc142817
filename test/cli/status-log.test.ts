import { expect, it } from 'vitest';
import type { Logger } from '../../src/cli/logger.ts';
import { logStatus } from '../../src/cli/status-log.ts';

/** The line `sluice run` prints when a run starts. */
function startedLine(restoredWindow: number, firstWindow: number): string {
  const lines: string[] = [];
  const log = { info: (_: unknown, line: string) => lines.push(line) } as unknown as Logger;
  logStatus(log, { type: 'started', application: 'app', actors: 3, firstWindow, restoredWindow });
  return lines[0]!;
}

it('says which windows a start replays from the window log, and calls a store fresh only when it is', () => {
  expect(startedLine(0, 1)).toBe('started "app": 3 actors, first window 1 (fresh store)');
  expect(startedLine(20, 21)).toBe(
    'started "app": 3 actors, first window 21 (restored from the checkpoint of window 20)',
  );
  expect(startedLine(0, 7)).toBe(
    'started "app": 3 actors, first window 7 (no checkpoint yet: windows 1–6 replay from the window log)',
  );
  expect(startedLine(20, 22)).toBe(
    'started "app": 3 actors, first window 22 (restored from the checkpoint of window 20; window 21 replays from the window log)',
  );
});

it('logs a container failure with its container and actors as fields of their own (--json)', async () => {
  const { ContainerFailure } = await import('../../src/container/errors.ts');
  const { failureEvent } = await import('../../src/container/failures.ts');
  const entries: Record<string, unknown>[] = [];
  const log = {
    error: (fields: Record<string, unknown>) => entries.push(fields),
    isLevelEnabled: () => false,
  } as unknown as Logger;
  logStatus(
    log,
    failureEvent(new ContainerFailure(2, ['agg#0', 'sink'], 8, 'killed by the drill container:2@8')),
  );
  expect(entries).toEqual([
    expect.objectContaining({
      event: 'failure',
      container: 2,
      actors: ['agg#0', 'sink'],
      window: 8,
      phase: 'container',
    }),
  ]);
  expect(entries[0]).not.toHaveProperty('actorId');
});

it('says at debug level which window, actor and commit a line is about; --json leaves windows to its own lines', () => {
  const lines: [Record<string, unknown>, string][] = [];
  const log = { debug: (fields: Record<string, unknown>, line: string) => lines.push([fields, line]) };
  const events = [
    { type: 'window', window: 4, tuples: 120 },
    { type: 'checkpoint', actorId: 'sums#1', window: 4, ms: 3.4, bytes: 512 },
    { type: 'commit', window: 4 },
  ] as const;
  for (const e of events) logStatus(log as unknown as Logger, e);
  expect(lines.map(([, line]) => line)).toEqual([
    'window 4 done by every actor (120 tuples in so far)',
    'checkpoint of sums#1 at window 4 in 3 ms, 512 bytes',
    'committed window 4',
  ]);
  expect(lines[1]![0]).toMatchObject({ event: 'checkpoint', actorId: 'sums#1', window: 4, bytes: 512 });
  lines.length = 0;
  for (const e of events) logStatus(log as unknown as Logger, e, true);
  expect(lines.map(([, line]) => line)).toEqual(['checkpoint of sums#1 at window 4 in 3 ms, 512 bytes']);
});

it('a container failure with many actors says how many its message leaves out', async () => {
  const { ContainerFailure } = await import('../../src/container/errors.ts');
  const actors = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const e = new ContainerFailure(1, actors, 20, 'sent no heartbeat');
  expect(e.message).toBe(
    'container 1 (actors a, b, c, d, e, f and 2 more) failed after window 20: sent no heartbeat',
  );
});
