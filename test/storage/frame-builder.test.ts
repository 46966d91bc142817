import { describe, expect, it } from 'vitest';
import { encodeState, SealedFrame, sealState, unsealState } from '../../src/storage/codec.ts';
import { SnapshotCorruptError } from '../../src/storage/errors.ts';
import { cborHead, FrameBuilder } from '../../src/storage/frame-builder.ts';
import { LevelSnapshotStore } from '../../src/storage/level-snapshot-store.ts';
import { MemorySnapshotStore } from '../../src/storage/memory-snapshot-store.ts';
import { removeDir, tempDir } from '../recovery/fixtures.ts';

const record = { kind: 'snapshot', actorId: 'a', window: 1 } as const;

/** A frame of `{ k: [value, bytes] }` assembled from pieces, `step` bytes at a time. */
function built(value: unknown, bytes: Uint8Array, step: number): Uint8Array {
  const key = new TextEncoder().encode('k');
  const b = new FrameBuilder([
    cborHead(5, 1),
    cborHead(3, key.length),
    key,
    cborHead(4, 2),
    encodeState(value),
    cborHead(2, bytes.length),
    bytes,
  ]);
  let steps = 0;
  while (!b.step(step)) steps++;
  expect(steps).toBeGreaterThan(0);
  return b.sealed().bytes;
}

describe('FrameBuilder', () => {
  it('assembles, in steps, a frame the codec unseals to the value and bytes it was made of', () => {
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => i % 251);
    const value = { x: [1, 'two', new Map([[3, 4]])] };
    const frame = built(value, bytes, 1000);
    const back = unsealState(frame, record) as { k: [unknown, Uint8Array] };
    expect(back.k[0]).toEqual(value);
    expect(new Uint8Array(back.k[1])).toEqual(bytes);
    // The same layout as the codec's own frames: version, CRC, payload.
    expect(frame[0]).toBe(sealState(0, record)[0]);
  });

  it('writes a frame whose checksum catches a flipped byte', () => {
    const frame = built('v', new Uint8Array(300), 7);
    frame[frame.length - 10]! ^= 1;
    expect(() => unsealState(frame, record)).toThrow(SnapshotCorruptError);
  });

  it('hands both stores a frame to store as it is (SealedFrame)', async () => {
    const dir = tempDir('frame');
    try {
      for (const store of [new MemorySnapshotStore(), new LevelSnapshotStore(dir)]) {
        await store.open();
        const frame = built({ n: 1 }, new Uint8Array([9, 8]), 3);
        await store.saveSnapshot('a', 1, new SealedFrame(frame));
        const back = (await store.loadSnapshot('a', 1)) as { k: [unknown, Uint8Array] };
        expect(back.k[0]).toEqual({ n: 1 });
        expect([...back.k[1]]).toEqual([9, 8]);
        expect(await store.snapshotWindows('a')).toEqual([1]);
        await store.close();
      }
    } finally {
      removeDir(dir);
    }
  });
});
