import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { launch, type StatusEvent } from '../../src/index.ts';
import { readWindowFiles, scratchDirs } from '../recovery/fixtures.ts';
import countedApp from './apps/counted.ts';

const COUNTED = new URL('./apps/counted.ts', import.meta.url);
const scratchDir = scratchDirs('count-stop');

afterEach(() => {
  delete process.env.COUNTED_OUT;
  delete process.env.COUNTED_TOTAL;
});

/** The window files' numbers, per window file name. */
function numbers(out: string): Map<string, number[]> {
  const files = readWindowFiles(out);
  return new Map([...files].map(([f, text]) => [f, text.trim().split('\n').map(Number)]));
}

test("on 3 containers, a stop with the held window's source dry leaves that window for the relaunch, which fills it whole", async () => {
  const dir = scratchDir();
  const out = join(dir, 'out');
  const store = join(dir, 'store');
  process.env.COUNTED_OUT = out;
  process.env.COUNTED_TOTAL = '90'; // windows 1–4 fill (4 committed while 5 is held), window 5 gets 10 and waits
  const run = await launch(countedApp, { store, containers: 3, module: COUNTED });
  const events: StatusEvent[] = [];
  run.on('status', (e) => events.push(e));
  while (!existsSync(out) || readWindowFiles(out).size < 4) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 500));
  await run.stop();
  await run.done;
  expect(events.find((e) => e.type === 'stopped')).toMatchObject({ unfinished: 5 });
  expect(
    events.some((e) => e.type === 'warning' && /window 5 is left unfinished: src held it/.test(e.message)),
  ).toBe(true);
  expect([...numbers(out).keys()]).toHaveLength(4); // window 5 was not applied, not even in part

  process.env.COUNTED_TOTAL = '200';
  const again = await launch(countedApp, { store, containers: 3, module: COUNTED, windows: 7 });
  await again.done;
  const windows = [...numbers(out).values()];
  expect(windows).toEqual(
    Array.from({ length: 7 }, (_, w) => Array.from({ length: 20 }, (_, i) => w * 20 + i)),
  );
});

test('on 3 containers, a stop asked before the run started ends at the restored window: no window is opened and held first', async () => {
  const dir = scratchDir();
  const out = join(dir, 'out');
  process.env.COUNTED_OUT = out;
  process.env.COUNTED_TOTAL = '0'; // dry: a window opened now would be held until the stop gives up on it
  const run = await launch(countedApp, { store: join(dir, 'store'), containers: 3, module: COUNTED });
  const events: StatusEvent[] = [];
  run.on('status', (e) => events.push(e));
  await run.stop();
  expect(events.find((e) => e.type === 'stopped')).toEqual({
    type: 'stopped',
    window: 0,
    committed: 0,
    reason: 'stop',
  });
  expect(existsSync(out) ? readWindowFiles(out).size : 0).toBe(0);
});
