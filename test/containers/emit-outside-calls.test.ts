import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { launch, type OperatorFailure } from '../../src/index.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';
import app from './apps/deferred-emit.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) removeDir(dir);
});

test('a tuple emitted from a callback in a container fails the run with its own code, not restarted', async () => {
  dir = tempDir('sluice-deferred-');
  const run = await launch(app, {
    containers: 3,
    module: new URL('./apps/deferred-emit.ts', import.meta.url),
    store: join(dir, 'store'),
    windows: 30,
    virtualTime: true,
  });
  let restarts = 0;
  run.on('status', (e) => {
    if (e.type === 'restart') restarts++;
  });
  const error = await run.done.then(
    () => undefined,
    (e: unknown) => e as OperatorFailure,
  );
  // Tuple 41 is the last of window 14: its callback runs inside the window or right after it (when END came
  // in the same batch), caught before the window ends or as the next one starts. The code crossed the
  // thread (it was SLUICE_OPERATOR_FAILED).
  expect(error?.actorId).toBe('late');
  expect([14, 15]).toContain(error?.window);
  expect(error?.code).toMatch(/^SLUICE_EMIT_OUTSIDE_(CALL|WINDOW)$/);
  expect(restarts).toBe(0);
});
