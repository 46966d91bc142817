import fc from 'fast-check';
import { expect } from 'vitest';
import type { SnapshotStore, WindowLogEntry } from '../../src/storage/snapshot-store.ts';

/*
 * A model-based property every way to a snapshot store shares: the stores themselves (the conformance
 * suite), and the stores as a container (over comlink) or a cluster node (over the cluster's RPC) sees
 * them. Random sequences of saves, deletes, window-log appends and deletes, metadata and relaunches; after
 * every operation the store reads back what a model holds.
 * Replay a failure: SLUICE_PROPERTY_SEED=<seed>; runs: SLUICE_STORE_MODEL_RUNS (default 20).
 */

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

export interface ModelSubject {
  /** The store under test now (a relaunch replaces it). */
  store: () => SnapshotStore;
  /** Closes the store and opens a new instance on the same data (a relaunched process). */
  relaunch: () => Promise<SnapshotStore>;
  /** Whether `actorIds()` lists the actors (a container's or a node's view of a store does not). */
  listsActors: boolean;
}

export async function holdsWhatAModelHolds(name: string, subject: ModelSubject): Promise<void> {
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
      const windowsOf = (m: Map<number, unknown> | undefined) => [...(m?.keys() ?? [])].sort((a, b) => a - b);
      let store = subject.store();
      for (const op of ops) {
        const actor = p + op.actor;
        if (op.op === 'save') {
          await store.saveSnapshot(actor, op.window, op.state);
          if (!snapshots.has(actor)) snapshots.set(actor, new Map());
          snapshots.get(actor)!.set(op.window, op.state);
        } else if (op.op === 'deleteBelow') {
          await store.deleteSnapshotsBelow(actor, op.window);
          for (const w of windowsOf(snapshots.get(actor))) if (w < op.window) snapshots.get(actor)!.delete(w);
        } else if (op.op === 'log') {
          if (op.window < (floors.get(actor) ?? 0)) continue;
          await store.appendWindowLog(actor, op.window, op.entry);
          if (!logs.has(actor)) logs.set(actor, new Map());
          logs.get(actor)!.set(op.window, op.entry);
        } else if (op.op === 'deleteLogBelow') {
          await store.deleteWindowLogBelow(actor, op.window);
          floors.set(actor, Math.max(op.window, floors.get(actor) ?? 0));
          for (const w of [...(logs.get(actor)?.keys() ?? [])]) if (w < op.window) logs.get(actor)!.delete(w);
        } else if (op.op === 'meta') {
          await store.putMeta(p + op.key, op.value);
          meta.set(p + op.key, op.value);
        } else store = await subject.relaunch();
        // After every operation, everything this run wrote reads back as the model says.
        for (const a of ACTORS.map((x) => p + x)) {
          expect(await store.snapshotWindows(a)).toEqual(windowsOf(snapshots.get(a)));
          for (const [w, state] of snapshots.get(a) ?? [])
            expect(await store.loadSnapshot(a, w)).toEqual(state);
          const log = await store.readWindowLog(a, 0, Number.MAX_SAFE_INTEGER);
          expect([...log]).toEqual([...(logs.get(a) ?? [])].sort(([x], [y]) => x - y));
        }
        if (subject.listsActors) {
          const withSnapshots = [...snapshots].filter(([, m]) => m.size > 0).map(([a]) => a);
          expect((await store.actorIds()).filter((a) => a.startsWith(p))).toEqual(withSnapshots.sort());
        }
        for (const [k, v] of meta) expect(await store.getMeta(k)).toEqual(v);
      }
    }),
    { seed: modelSeed, numRuns: Number(process.env.SLUICE_STORE_MODEL_RUNS ?? 20) },
  );
}
