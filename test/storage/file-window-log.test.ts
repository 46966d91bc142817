import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileWindowLog } from '../../src/storage/file-window-log.ts';
import { LevelSnapshotStore } from '../../src/storage/level-snapshot-store.ts';
import { scratchDirs } from '../recovery/fixtures.ts';

const scratch = scratchDirs('sluice-wlog-');
const bytes = (...b: number[]) => new Uint8Array(b);
const windows = (entries: Array<[number, Uint8Array]>) => entries.map(([w]) => w);

describe('FileWindowLog', () => {
  it('reads back what was appended, by range, the newest record of a window winning', () => {
    const log = new FileWindowLog(scratch());
    for (let w = 1; w <= 5; w++) log.append('in/0', w, bytes(w));
    log.append('in/0', 3, bytes(33));
    log.append('other', 1, bytes(9));
    expect(log.read('in/0', 2, 4)).toEqual([
      [2, bytes(2)],
      [3, bytes(33)],
      [4, bytes(4)],
    ]);
    expect(windows(log.read('other', 0, 100))).toEqual([1]);
    expect(log.read('nobody', 0, 100)).toEqual([]);
    log.close();
  });

  it('is read by another instance (another thread) while a writer keeps appending', () => {
    const dir = scratch();
    const writer = new FileWindowLog(dir);
    const reader = new FileWindowLog(dir);
    writer.append('in', 1, bytes(1));
    expect(windows(reader.read('in', 0, 10))).toEqual([1]);
    writer.append('in', 2, bytes(2));
    expect(windows(reader.read('in', 0, 10))).toEqual([1, 2]);
    writer.close();
  });

  it('deletes below a window across segments, never the segment being written', () => {
    const dir = scratch();
    const writer = new FileWindowLog(dir);
    for (let w = 1; w <= 600; w++) writer.append('in', w, bytes(w % 256));
    const segmentsBefore = readdirSync(join(dir, 'in')).filter((f) => f.endsWith('.wlog'));
    expect(segmentsBefore.length).toBe(3);
    new FileWindowLog(dir).deleteBelow('in', 590);
    expect(windows(writer.read('in', 0, 1000))).toEqual([
      590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 600,
    ]);
    // The two full segments are gone; the one being written stays (it is appended to after the delete).
    expect(readdirSync(join(dir, 'in')).filter((f) => f.endsWith('.wlog')).length).toBe(1);
    writer.append('in', 601, bytes(1));
    expect(windows(writer.read('in', 599, 1000))).toEqual([599, 600, 601]);
    writer.close();
  });

  it('ignores a torn record at the end of a segment (a kill mid-write)', () => {
    const dir = scratch();
    const log = new FileWindowLog(dir);
    log.append('in', 1, bytes(1, 2, 3));
    log.close();
    const [segment] = readdirSync(join(dir, 'in'));
    // A header that announces more bytes than follow.
    appendFileSync(join(dir, 'in', segment!), Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50, 1, 2]));
    expect(new FileWindowLog(dir).read('in', 0, 10)).toEqual([[1, bytes(1, 2, 3)]]);
  });

  it('a new writer of an actor starts its own segment', () => {
    const dir = scratch();
    const first = new FileWindowLog(dir);
    first.append('in', 1, bytes(1));
    const second = new FileWindowLog(dir);
    second.append('in', 2, bytes(2));
    expect(readdirSync(join(dir, 'in')).filter((f) => f.endsWith('.wlog')).length).toBe(2);
    expect(windows(first.read('in', 0, 10))).toEqual([1, 2]);
    first.close();
    second.close();
  });
});

describe('LevelSnapshotStore window log', () => {
  it('keeps entries in files that a relaunch reads, and a corrupt entry is an error naming it', async () => {
    const dir = scratch();
    const store = new LevelSnapshotStore(dir);
    await store.open();
    await store.appendWindowLog('in', 7, { counts: [3, 4], offset: 70 });
    // What a container appends itself, in the store's window log directory.
    const container = new FileWindowLog(store.windowLogDir);
    container.append('in', 8, bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20));
    container.close();
    await store.close();
    const again = new LevelSnapshotStore(dir);
    await again.open();
    expect(await again.readWindowLog('in', 0, 7)).toEqual(new Map([[7, { counts: [3, 4], offset: 70 }]]));
    await expect(again.readWindowLog('in', 0, 8)).rejects.toMatchObject({
      code: 'SLUICE_SNAPSHOT_CORRUPT',
      actorId: 'in',
      window: 8,
    });
    await again.close();
  });
});
