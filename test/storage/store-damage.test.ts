/**
 * A store damaged under the engine (a LevelDB table or log that fails its checksums, files lost) is
 * refused before anything runs, with SLUICE_STORE_DAMAGED and the store's path, or, where LevelDB
 * recovered by dropping data, said in a warning: never a silent fresh start, a hang or a raw LevelDB error.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { launch, type StatusEvent } from '../../src/index.ts';
import { runningSumsApp, scratchDirs } from '../recovery/fixtures.ts';

const scratch = scratchDirs('store-damage');

/** 23 windows of the running sums (checkpoints every 5, committed 20) on a LevelDB store in `dir`. */
async function filledStore(): Promise<{ store: string; out: string }> {
  const dir = scratch();
  const store = join(dir, 'store');
  const out = join(dir, 'out');
  const run = await launch(runningSumsApp(out, 5), { store, windows: 23, virtualTime: true });
  await run.done;
  return { store, out };
}

/** Relaunches on the store for 40 windows: what it failed with, and its status events. */
async function relaunch(store: string, out: string) {
  const events: StatusEvent[] = [];
  try {
    const run = await launch(runningSumsApp(out, 5), { store, windows: 40, virtualTime: true });
    run.on('status', (e) => events.push(e));
    await run.done;
    return { error: undefined, events };
  } catch (e) {
    return { error: e as Error & { code?: string }, events };
  }
}

const levelFiles = (store: string, ending: string) =>
  readdirSync(store)
    .filter((f) => f.endsWith(ending))
    .map((f) => join(store, f));

it('LevelDB data lost while the window log files stay: refused, naming the window the log cannot replay', async () => {
  const { store, out } = await filledStore();
  for (const f of readdirSync(store)) if (f !== 'window-log') rmSync(join(store, f), { recursive: true });
  const { error } = await relaunch(store, out);
  expect(error?.code).toBe('SLUICE_STORE_DAMAGED');
  expect(error?.message).toContain(
    `the snapshot store ${store} is damaged: the window log of input operator "src"`,
  );
  expect(error?.message).toMatch(
    /lacks window 1 \(it holds windows \d+–23\), but its checkpoints restore window 0/,
  );
});

it('a LevelDB table that fails its checks: refused with LevelDB’s words, not a raw error', async () => {
  const { store, out } = await filledStore();
  // A relaunch that stops at once turns the log into a table (LevelDB compacts its log when it opens).
  await (await launch(runningSumsApp(out, 5), { store, windows: 23, virtualTime: true })).done;
  const tables = levelFiles(store, '.ldb');
  expect(tables.length).toBeGreaterThan(0);
  for (const table of tables) {
    const bytes = readFileSync(table);
    // Everything but the footer (the last 48 bytes, which point at the index) becomes garbage.
    for (let i = 0; i < bytes.length - 48; i++) bytes[i] = (i * 31) & 0xff;
    writeFileSync(table, bytes);
  }
  const { error } = await relaunch(store, out);
  expect(error?.code).toBe('SLUICE_STORE_DAMAGED');
  expect(error?.message).toMatch(/is damaged: LevelDB cannot (open|read) it \((Corruption|IO error): /);
});

it('a damaged LevelDB log that LevelDB recovers by dropping records is said in a warning', async () => {
  const { store, out } = await filledStore();
  const [log] = levelFiles(store, '.log');
  const bytes = readFileSync(log!);
  expect(statSync(log!).size).toBeGreaterThan(600);
  bytes[500] = bytes[500]! ^ 0xff;
  writeFileSync(log!, bytes);
  rmSync(join(store, 'window-log'), { recursive: true }); // nothing left to contradict: it starts afresh
  const { error, events } = await relaunch(store, out);
  expect(error).toBeUndefined();
  const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
  expect(warnings.join('\n')).toMatch(/LevelDB found its log damaged when opening the store and dropped/);
});
