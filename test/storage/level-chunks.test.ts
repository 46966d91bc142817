import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, expect, it } from 'vitest';
import { SnapshotCorruptError } from '../../src/storage/errors.ts';
import {
  LEVEL_SUBLEVELS,
  LevelSnapshotStore,
  levelRecordKey,
} from '../../src/storage/level-snapshot-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-level-chunks-'));
  dirs.push(d);
  return d;
}

/** 3.5 MB that survive the codec (a byte string) and differ from chunk to chunk. */
const big = () => Uint8Array.from({ length: 3_500_000 }, (_, i) => (i * 31 + (i >> 20)) & 0xff);

/** The keys of one sublevel of a closed store. */
async function rawKeys(dir: string, sublevel: string): Promise<string[]> {
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
  const keys = await raw.sublevel<string, Uint8Array>(sublevel, { valueEncoding: 'view' }).keys().all();
  await raw.close();
  return keys;
}

it('stores a frame over a megabyte in chunks, reads it back whole, and deletes its chunks with it', async () => {
  const dir = tempDir();
  const store = new LevelSnapshotStore(dir);
  await store.open();
  const value = big();
  await store.saveSnapshot('a', 1, { bytes: value });
  await store.saveSnapshot('a', 2, { bytes: value });
  await store.close();
  const chunks = await rawKeys(dir, LEVEL_SUBLEVELS.chunks);
  expect(chunks.length).toBe(8); // two snapshots of 4 chunks each

  await store.open();
  const back = (await store.loadSnapshot('a', 2)) as { bytes: Uint8Array };
  expect(Buffer.compare(back.bytes, value)).toBe(0); // (toEqual walks 3.5 M elements slowly)
  await store.deleteSnapshotsBelow('a', 2);
  expect(await store.snapshotWindows('a')).toEqual([2]);
  await store.close();
  expect((await rawKeys(dir, LEVEL_SUBLEVELS.chunks)).length).toBe(4);
});

it('reports a snapshot whose chunk is missing as corrupt, and one whose chunk is damaged by its checksum', async () => {
  const dir = tempDir();
  const store = new LevelSnapshotStore(dir);
  await store.open();
  await store.saveSnapshot('a', 1, { bytes: big() });
  await store.saveSnapshot('a', 2, { bytes: big() });
  await store.close();
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' });
  const chunks = raw.sublevel<string, Uint8Array>(LEVEL_SUBLEVELS.chunks, { valueEncoding: 'view' });
  await chunks.del(`${levelRecordKey('a', 1)}\u000000000002`);
  const key = `${levelRecordKey('a', 2)}\u000000000001`;
  const damaged = Uint8Array.from((await chunks.get(key)) as Uint8Array);
  damaged[100]! ^= 1;
  await chunks.put(key, damaged);
  await raw.close();
  await store.open();
  await expect(store.loadSnapshot('a', 1)).rejects.toThrow(/chunk 2 of 4 missing/);
  await expect(store.loadSnapshot('a', 2)).rejects.toBeInstanceOf(SnapshotCorruptError);
  await store.close();
});
