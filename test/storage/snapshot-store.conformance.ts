import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotCorruptError, StoreClosedError, StoreLockedError } from '../../src/storage/errors.ts';
import type { SnapshotStore } from '../../src/storage/snapshot-store.ts';
import { holdsWhatAModelHolds } from './store-model.ts';

export type ConformanceSubject = {
  /** A fresh, empty, not yet opened store. */
  store: SnapshotStore;
  /** A new, not yet opened instance on the same backing data (a relaunched process). */
  reopen: () => SnapshotStore;
  /** Damages the stored bytes of (actorId, w); called while every instance is closed. */
  corrupt: (actorId: string, w: number) => Promise<void>;
  cleanup: () => Promise<void>;
};

/** The behaviour every SnapshotStore implementation must share (Level's one-suite-for-all pattern). */
export function snapshotStoreConformance(name: string, make: () => Promise<ConformanceSubject>): void {
  describe(`SnapshotStore conformance: ${name}`, () => {
    let subject: ConformanceSubject;
    let store: SnapshotStore;
    const others: SnapshotStore[] = [];

    /** Closes `store`, opens a new instance on the same data and makes it `store`. */
    async function relaunch(): Promise<SnapshotStore> {
      await store.close();
      store = subject.reopen();
      others.push(store);
      await store.open();
      return store;
    }

    beforeEach(async () => {
      subject = await make();
      store = subject.store;
      await store.open();
    });

    afterEach(async () => {
      await store.close();
      for (const other of others.splice(0)) await other.close();
      await subject.cleanup();
    });

    it('round-trips Map, Set, BigInt, Date, Uint8Array and nested state, objects as plain objects', async () => {
      const state = {
        sums: new Map<string, [number, number]>([
          ['a', [1, 2.5]],
          ['b', [3, 4]],
        ]),
        seen: new Set(['x', 'y']),
        total: 2n ** 70n,
        small: -5n,
        at: new Date(1_700_000_000_123),
        nested: { list: [1, [2, [3, { deep: new Map([[1, new Set([2])]]) }]]], none: undefined, nil: null },
        bytes: new Uint8Array([1, 2, 3]),
        big: 2 ** 40,
        text: 'héllo',
      };
      await store.saveSnapshot('op#0', 10, state);
      const loaded = (await store.loadSnapshot('op#0', 10)) as typeof state;
      expect(loaded).toEqual(state);
      expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(loaded.nested)).toBe(Object.prototype);
      expect(loaded.sums).toBeInstanceOf(Map);
      expect(loaded.seen).toBeInstanceOf(Set);
      expect(loaded.at).toBeInstanceOf(Date);
      expect(typeof loaded.total).toBe('bigint');
      expect(typeof loaded.big).toBe('number');
      expect('none' in loaded.nested).toBe(true);
    });

    it('takes the snapshot when saveSnapshot is called: later mutation of the state does not leak in', async () => {
      const state = { n: 1, m: new Map([['k', 1]]) };
      const saved = store.saveSnapshot('op', 1, state);
      state.n = 2;
      state.m.set('k', 2);
      await saved;
      expect(await store.loadSnapshot('op', 1)).toEqual({ n: 1, m: new Map([['k', 1]]) });
    });

    it('returns undefined for a snapshot that was never saved', async () => {
      await store.saveSnapshot('op', 1, { a: 1 });
      expect(await store.loadSnapshot('op', 2)).toBeUndefined();
      expect(await store.loadSnapshot('other', 1)).toBeUndefined();
      expect(await store.snapshotWindows('other')).toEqual([]);
    });

    it('replaces a snapshot saved again for the same window', async () => {
      await store.saveSnapshot('op', 1, { v: 'first' });
      await store.saveSnapshot('op', 1, { v: 'second' });
      expect(await store.loadSnapshot('op', 1)).toEqual({ v: 'second' });
      expect(await store.snapshotWindows('op')).toEqual([1]);
    });

    it('lists windows in numeric order, per actor only', async () => {
      for (const w of [100, 2, 10, 0, 9_007_199_254_740_991]) await store.saveSnapshot('op', w, { w });
      await store.saveSnapshot('op2', 5, {});
      await store.saveSnapshot('o', 7, {});
      expect(await store.snapshotWindows('op')).toEqual([0, 2, 10, 100, 9_007_199_254_740_991]);
      expect(await store.snapshotWindows('o')).toEqual([7]);
      expect(await store.snapshotWindows('op2')).toEqual([5]);
    });

    it('keeps actors whose ids prefix one another apart', async () => {
      await store.saveSnapshot('a', 1, 'a');
      await store.saveSnapshot('a!b', 1, 'a!b');
      await store.saveSnapshot('a b', 2, 'a b');
      await store.deleteSnapshotsBelow('a', 10);
      expect(await store.snapshotWindows('a')).toEqual([]);
      expect(await store.loadSnapshot('a!b', 1)).toBe('a!b');
      expect(await store.actorIds()).toEqual(['a b', 'a!b']);
    });

    it('deletes only the snapshots below the given window', async () => {
      for (const w of [1, 2, 3, 10, 20]) await store.saveSnapshot('op', w, { w });
      await store.saveSnapshot('keep', 1, { w: 1 });
      await store.deleteSnapshotsBelow('op', 10);
      expect(await store.snapshotWindows('op')).toEqual([10, 20]);
      expect(await store.loadSnapshot('op', 3)).toBeUndefined();
      expect(await store.loadSnapshot('op', 10)).toEqual({ w: 10 });
      expect(await store.snapshotWindows('keep')).toEqual([1]);
      await store.deleteSnapshotsBelow('op', 0);
      await store.deleteSnapshotsBelow('nobody', 5);
      expect(await store.snapshotWindows('op')).toEqual([10, 20]);
    });

    it('lists every actor that has snapshots, and no longer one whose snapshots are all deleted', async () => {
      expect(await store.actorIds()).toEqual([]);
      await store.saveSnapshot('recv#1', 1, {});
      await store.saveSnapshot('recv#0', 1, {});
      await store.saveSnapshot('recv#0', 2, {});
      await store.saveSnapshot('sink', 3, {});
      await store.appendWindowLog('logonly', 1, { counts: [1] });
      expect(await store.actorIds()).toEqual(['recv#0', 'recv#1', 'sink']);
      await store.deleteSnapshotsBelow('sink', 4);
      expect(await store.actorIds()).toEqual(['recv#0', 'recv#1']);
    });

    it('appends, reads by inclusive range, and deletes the window log', async () => {
      for (const w of [1, 2, 3, 10, 11]) {
        await store.appendWindowLog('in', w, { counts: [w, 0], offset: { file: 'f', pos: BigInt(w * 100) } });
      }
      await store.appendWindowLog('in2', 2, { counts: [99] });
      const range = await store.readWindowLog('in', 2, 10);
      expect([...range.keys()]).toEqual([2, 3, 10]);
      expect(range.get(3)).toEqual({ counts: [3, 0], offset: { file: 'f', pos: 300n } });
      expect([...(await store.readWindowLog('in', -5, 1)).keys()]).toEqual([1]);
      expect((await store.readWindowLog('in', 12, 20)).size).toBe(0);
      expect((await store.readWindowLog('in', 5, 4)).size).toBe(0);
      expect(await store.readWindowLog('in2', 0, 100)).toEqual(new Map([[2, { counts: [99] }]]));
      await store.deleteWindowLogBelow('in', 10);
      expect([...(await store.readWindowLog('in', 0, Number.MAX_SAFE_INTEGER)).keys()]).toEqual([10, 11]);
      expect((await store.readWindowLog('in2', 0, 100)).size).toBe(1);
    });

    it('reads window-log windows in numeric order', async () => {
      for (const w of [100, 9, 10]) await store.appendWindowLog('in', w, { counts: [w] });
      expect([...(await store.readWindowLog('in', 0, 1000)).keys()]).toEqual([9, 10, 100]);
    });

    it('stores and replaces metadata', async () => {
      expect(await store.getMeta('committedWindow')).toBeUndefined();
      await store.putMeta('committedWindow', 40);
      await store.putMeta('app', { name: 'machine-data', fingerprint: 'abc', at: new Date(5) });
      await store.putMeta('committedWindow', 50);
      expect(await store.getMeta('committedWindow')).toBe(50);
      expect(await store.getMeta('app')).toEqual({
        name: 'machine-data',
        fingerprint: 'abc',
        at: new Date(5),
      });
    });

    it('keeps snapshots, window log and metadata across close and reopen', async () => {
      await store.saveSnapshot('op', 10, { sums: new Map([['a', 1n]]) });
      await store.saveSnapshot('op', 20, { sums: new Map([['a', 2n]]) });
      await store.appendWindowLog('in', 20, { counts: [5], offset: 77 });
      await store.putMeta('committedWindow', 10);
      const again = await relaunch();
      expect(await again.snapshotWindows('op')).toEqual([10, 20]);
      expect(await again.loadSnapshot('op', 20)).toEqual({ sums: new Map([['a', 2n]]) });
      expect(await again.readWindowLog('in', 0, 100)).toEqual(new Map([[20, { counts: [5], offset: 77 }]]));
      expect(await again.getMeta('committedWindow')).toBe(10);
      expect(await again.actorIds()).toEqual(['op']);
    });

    it('detects a damaged snapshot on load instead of decoding it', async () => {
      await store.saveSnapshot('op#3', 30, { sums: new Map([['k', [1, 2]]]), text: 'some text to flip' });
      await store.saveSnapshot('op#3', 40, { fine: true });
      await store.close();
      await subject.corrupt('op#3', 30);
      const again = await relaunch();
      const error = await again.loadSnapshot('op#3', 30).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(SnapshotCorruptError);
      expect(error).toMatchObject({ code: 'SLUICE_SNAPSHOT_CORRUPT', actorId: 'op#3', window: 30 });
      expect((error as Error).message).toMatch(/actor "op#3" at window 30/);
      expect(await again.loadSnapshot('op#3', 40)).toEqual({ fine: true });
    });

    it('refuses a second open of the same store while it is open, and allows it after close', async () => {
      const second = subject.reopen();
      others.push(second);
      const error = await second.open().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(StoreLockedError);
      expect(error).toMatchObject({ code: 'SLUICE_STORE_LOCKED' });
      expect((error as Error).message).toMatch(/another sluice run/);
      await expect(store.open()).rejects.toBeInstanceOf(StoreLockedError);
      await store.saveSnapshot('op', 1, 'still mine');
      await store.close();
      await second.open();
      expect(await second.loadSnapshot('op', 1)).toBe('still mine');
      await second.close();
      await store.open();
      expect(await store.snapshotWindows('op')).toEqual([1]);
    });

    it('rejects every operation with StoreClosedError before open and after close', async () => {
      const fresh = subject.reopen();
      await expect(fresh.getMeta('x')).rejects.toBeInstanceOf(StoreClosedError);
      await store.close();
      await store.close();
      const operations: Array<() => Promise<unknown>> = [
        () => store.saveSnapshot('op', 1, {}),
        () => store.loadSnapshot('op', 1),
        () => store.snapshotWindows('op'),
        () => store.deleteSnapshotsBelow('op', 1),
        () => store.appendWindowLog('op', 1, { counts: [] }),
        () => store.readWindowLog('op', 0, 1),
        () => store.deleteWindowLogBelow('op', 1),
        () => store.getMeta('k'),
        () => store.putMeta('k', 1),
        () => store.actorIds(),
      ];
      for (const operation of operations) {
        const error = await operation().catch((err: unknown) => err);
        expect(error).toBeInstanceOf(StoreClosedError);
        expect(error).toMatchObject({ code: 'SLUICE_STORE_CLOSED' });
      }
    });

    it('lets the operations in flight finish before close resolves', async () => {
      const saves = Array.from({ length: 20 }, (_, w) => store.saveSnapshot('op', w, { w }));
      await store.close();
      await Promise.all(saves);
      const again = await relaunch();
      expect(await again.snapshotWindows('op')).toHaveLength(20);
    });

    it('rejects state it cannot encode, naming the actor and window, and stores nothing', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      for (const bad of [{ f: () => 1 }, cyclic, Symbol('s')]) {
        const error = await store.saveSnapshot('op', 5, bad).catch((err: unknown) => err);
        expect(error).toMatchObject({ code: 'SLUICE_STATE_NOT_ENCODABLE' });
        expect((error as Error).message).toMatch(/actor "op" at window 5/);
      }
      expect(await store.snapshotWindows('op')).toEqual([]);
      await store.saveSnapshot('op', 6, { ok: 1 });
      expect(await store.loadSnapshot('op', 6)).toEqual({ ok: 1 });
    });

    it('holds what a model holds under random sequences of operations and relaunches (property)', async () => {
      await holdsWhatAModelHolds(name, { store: () => store, relaunch, listsActors: true });
    }, 120_000);

    it('rejects invalid actor ids and windows', async () => {
      await expect(store.saveSnapshot('', 1, {})).rejects.toBeInstanceOf(TypeError);
      await expect(store.saveSnapshot('a\u0000b', 1, {})).rejects.toBeInstanceOf(TypeError);
      await expect(store.saveSnapshot('op', -1, {})).rejects.toBeInstanceOf(RangeError);
      await expect(store.saveSnapshot('op', 1.5, {})).rejects.toBeInstanceOf(RangeError);
      await expect(store.loadSnapshot('op', Number.NaN)).rejects.toBeInstanceOf(RangeError);
      await expect(store.readWindowLog('op', 0, Number.POSITIVE_INFINITY)).rejects.toBeInstanceOf(RangeError);
      await expect(store.getMeta('')).rejects.toBeInstanceOf(TypeError);
    });
  });
}
