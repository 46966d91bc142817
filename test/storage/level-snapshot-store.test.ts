import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../src/storage/errors.ts';
import {
  LEVEL_SUBLEVELS,
  LevelSnapshotStore,
  levelRecordKey,
} from '../../src/storage/level-snapshot-store.ts';
import { snapshotStoreConformance } from './snapshot-store.conformance.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-level-store-'));
}

/** Edits one raw value of a closed store's database. */
async function editRaw(
  dir: string,
  sublevel: string,
  key: string,
  edit: (v: Uint8Array | undefined) => Uint8Array,
) {
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
  const sub = raw.sublevel<string, Uint8Array>(sublevel, { valueEncoding: 'view' });
  await sub.put(key, edit((await sub.get(key)) as Uint8Array | undefined));
  await raw.close();
}

snapshotStoreConformance('LevelSnapshotStore', async () => {
  const dir = tempDir();
  return {
    store: new LevelSnapshotStore(dir),
    reopen: () => new LevelSnapshotStore(dir),
    corrupt: (actorId, w) =>
      editRaw(dir, LEVEL_SUBLEVELS.snapshots, levelRecordKey(actorId, w), (frame) => {
        const damaged = Uint8Array.from(frame!);
        damaged[damaged.length - 3]! ^= 0x10;
        return damaged;
      }),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

describe('LevelSnapshotStore', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  /** A separate node process that opens `location` with level and holds it until killed. */
  async function holdInChild(location: string): Promise<ChildProcess> {
    const script = `import { Level } from 'level';
      const db = new Level(${JSON.stringify(location)});
      await db.open();
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`lock holder exited early with code ${code}`)));
    });
    return child;
  }

  it('maps a second in-process open of the directory to StoreLockedError, with the level error as cause', async () => {
    const location = dir();
    const first = new LevelSnapshotStore(location);
    await first.open();
    const error = await new LevelSnapshotStore(location).open().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect((error as Error).message).toContain(location);
    expect((error as Error).cause).toMatchObject({
      code: 'LEVEL_DATABASE_NOT_OPEN',
      cause: { code: 'LEVEL_LOCKED' },
    });
    await first.close();
  });

  it('refuses a directory held open by another process, and takes it once that process is killed', async () => {
    const location = dir();
    const child = await holdInChild(location);
    const store = new LevelSnapshotStore(location);
    const error = await store.open().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect(error).toMatchObject({ code: 'SLUICE_STORE_LOCKED', location });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await store.open();
    await store.putMeta('k', 'v');
    expect(await store.getMeta('k')).toBe('v');
    await store.close();
  });

  it('creates a missing directory, nested', async () => {
    const location = path.join(dir(), 'a', 'b', 'store');
    const store = new LevelSnapshotStore(location);
    await store.open();
    await store.saveSnapshot('op', 1, { x: 1 });
    await store.close();
    expect(fs.existsSync(location)).toBe(true);
  });

  it('names a database LevelDB cannot open as a damaged store, with LevelDB’s words and its error as the cause', async () => {
    // A damaged database: CURRENT names a manifest that is not there.
    const location = dir();
    fs.mkdirSync(location, { recursive: true });
    fs.writeFileSync(path.join(location, 'CURRENT'), 'MANIFEST-000099\n');
    const error = await new LevelSnapshotStore(location).open().catch((err: unknown) => err);
    expect(error).not.toBeInstanceOf(StoreLockedError);
    expect(error).toMatchObject({
      code: 'SLUICE_STORE_DAMAGED',
      cause: { code: 'LEVEL_DATABASE_NOT_OPEN' },
    });
    expect((error as Error).message).toMatch(/is damaged: LevelDB cannot open it \(.*MANIFEST-000099/);
  });

  it('ignores snapshot data that has no completion marker, with a warning', async () => {
    const location = dir();
    const warnings: string[] = [];
    const store = new LevelSnapshotStore(location, { onWarning: (msg) => warnings.push(msg) });
    await store.open();
    await store.saveSnapshot('op', 10, { n: 10 });
    await store.close();
    // A frame under window 20 with no marker: what data-then-marker would leave if interrupted between.
    const raw = new Level<string, Uint8Array>(location, { valueEncoding: 'view' });
    const snapshots = raw.sublevel<string, Uint8Array>(LEVEL_SUBLEVELS.snapshots, { valueEncoding: 'view' });
    await snapshots.put(levelRecordKey('op', 20), (await snapshots.get(levelRecordKey('op', 10)))!);
    await raw.close();
    await store.open();
    expect(await store.snapshotWindows('op')).toEqual([10]);
    expect(await store.loadSnapshot('op', 20)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/actor "op" at window 20 has no completion marker/);
    await store.close();
  });

  it('detects a truncated snapshot', async () => {
    const location = dir();
    const store = new LevelSnapshotStore(location);
    await store.open();
    await store.saveSnapshot('op', 1, { list: Array.from({ length: 100 }, (_, i) => i) });
    await store.close();
    await editRaw(location, LEVEL_SUBLEVELS.snapshots, levelRecordKey('op', 1), (f) => f!.subarray(0, 50));
    await store.open();
    await expect(store.loadSnapshot('op', 1)).rejects.toMatchObject({ code: 'SLUICE_SNAPSHOT_CORRUPT' });
    await store.close();
  });
});
