import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotCorruptError, StoreClosedError, StoreLockedError } from '../../src/storage/errors.ts';
import type { SnapshotStore, WindowLogEntry } from '../../src/storage/snapshot-store.ts';

export type ConformanceSubject = {
  /** A fresh, empty, not yet opened store. */
  store: SnapshotStore;
  /** A new, not yet opened instance on the same backing data (a relaunched process). */
  reopen: () => SnapshotStore;
  /** Damages the stored bytes of (actorId, w); called while every instance is closed. */
  corrupt: (actorId: string, w: number) => Promise<void>;
  cleanup: () => Promise<void>;
};

const modelSeed = Number(process.env.SLUICE_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Actor ids that prefix one another, as partitions' do. */
const ACTORS = ['op', 'op#0', 'op#01', 'sink'] as const;
/**
 * JSON values without what the state codec documents it changes and the engine's state check refuses
 * before a store sees it: -0 (comes back 0) and an own `__proto__` key (renamed by cbor-x).
 */
const codecSafeJson = fc
  .jsonValue()
  .map((v) => JSON.parse(JSON.stringify(v), (k, x) => (k === '__proto__' ? undefined : x)) as unknown);
const stateArb = fc.oneof(
  { weight: 12, arbitrary: codecSafeJson },
  {
    weight: 4,
    arbitrary: fc.record({
      sums: fc.array(fc.tuple(fc.string(), fc.integer()), { maxLength: 5 }).map((e) => new Map(e)),
      seen: fc.array(fc.integer(), { maxLength: 5 }).map((e) => new Set(e)),
      total: fc.bigInt(),
      bytes: fc.uint8Array({ maxLength: 8 }),
    }),
  },
  // Around the LevelDB store's chunk size (1 MB): written in chunks, or just not.
  {
    weight: 1,
    arbitrary: fc.integer({ min: -64, max: 64 }).map((d) => ({ big: 'x'.repeat((1 << 20) + d) })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }).map((n) => ({ big: 'y'.repeat(n << 20) })) },
);
const windowArb = fc.integer({ min: 0, max: 12 });
const storeOpArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('save' as const),
      actor: fc.constantFrom(...ACTORS),
      window: windowArb,
      state: stateArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('deleteBelow' as const),
      actor: fc.constantFrom(...ACTORS),
      window: windowArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('log' as const),
      actor: fc.constantFrom(...ACTORS),
      window: windowArb,
      entry: fc.record({ counts: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('deleteLogBelow' as const),
      actor: fc.constantFrom(...ACTORS),
      window: windowArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('meta' as const),
      actor: fc.constant(''),
      key: fc.constantFrom('committed', 'app'),
      value: codecSafeJson,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'relaunch' as const, actor: '' }) },
);

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
      console.log(`${name} model seed ${modelSeed}; replay with SLUICE_PROPERTY_SEED=${modelSeed}`);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(storeOpArb, { minLength: 1, maxLength: 14 }), async (ops) => {
          // Each run has actors and keys of its own: the store is shared by the runs of this test.
          const p = `r${++run}:`;
          const snapshots = new Map<string, Map<number, unknown>>();
          const logs = new Map<string, Map<number, WindowLogEntry>>();
          const meta = new Map<string, unknown>();
          // Below a window it deleted the log below, nothing is appended again (SnapshotStore says so).
          const floors = new Map<string, number>();
          const windowsOf = (m: Map<number, unknown> | undefined) =>
            [...(m?.keys() ?? [])].sort((a, b) => a - b);
          for (const op of ops) {
            const actor = p + op.actor;
            if (op.op === 'save') {
              await store.saveSnapshot(actor, op.window, op.state);
              if (!snapshots.has(actor)) snapshots.set(actor, new Map());
              snapshots.get(actor)!.set(op.window, op.state);
            } else if (op.op === 'deleteBelow') {
              await store.deleteSnapshotsBelow(actor, op.window);
              for (const w of windowsOf(snapshots.get(actor)))
                if (w < op.window) snapshots.get(actor)!.delete(w);
            } else if (op.op === 'log') {
              if (op.window < (floors.get(actor) ?? 0)) continue;
              await store.appendWindowLog(actor, op.window, op.entry);
              if (!logs.has(actor)) logs.set(actor, new Map());
              logs.get(actor)!.set(op.window, op.entry);
            } else if (op.op === 'deleteLogBelow') {
              await store.deleteWindowLogBelow(actor, op.window);
              floors.set(actor, Math.max(op.window, floors.get(actor) ?? 0));
              for (const w of [...(logs.get(actor)?.keys() ?? [])])
                if (w < op.window) logs.get(actor)!.delete(w);
            } else if (op.op === 'meta') {
              await store.putMeta(p + op.key, op.value);
              meta.set(p + op.key, op.value);
            } else await relaunch();
            // After every operation, everything this run wrote reads back as the model says.
            for (const a of ACTORS.map((x) => p + x)) {
              expect(await store.snapshotWindows(a)).toEqual(windowsOf(snapshots.get(a)));
              for (const [w, state] of snapshots.get(a) ?? [])
                expect(await store.loadSnapshot(a, w)).toEqual(state);
              const log = await store.readWindowLog(a, 0, Number.MAX_SAFE_INTEGER);
              expect([...log]).toEqual([...(logs.get(a) ?? [])].sort(([x], [y]) => x - y));
            }
            const withSnapshots = [...snapshots].filter(([, m]) => m.size > 0).map(([a]) => a);
            expect((await store.actorIds()).filter((a) => a.startsWith(p))).toEqual(withSnapshots.sort());
            for (const [k, v] of meta) expect(await store.getMeta(k)).toEqual(v);
          }
        }),
        { seed: modelSeed, numRuns: Number(process.env.SLUICE_STORE_MODEL_RUNS ?? 20) },
      );
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
