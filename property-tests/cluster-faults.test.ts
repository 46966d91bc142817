import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { referenceRun, SUMS_APP, until, windowFiles } from '../test/cluster/cluster-kit.ts';
import { propertySeed } from './cases.ts';
import { type FaultCluster, startFaultCluster } from './cluster-faults-kit.ts';

/**
 * The kernel's oracle on a real cluster: a supervisor and 2–3 node processes on 127.0.0.1 run
 * examples/running-sums (keyed partitions into an exactly-once FileSink, containers spread over the
 * nodes) under a generated schedule of faults, each fired once the sink has written window W:
 *
 * - `kill NODE`: SIGKILL, then the platform starts the node again under the same id;
 * - `supervisor`: SIGKILL of the supervisor, another started on the same port and store;
 * - `drop NODE`: the node's connection to the supervisor cut (a TCP reset through its relay).
 *
 * Then the application is stopped gracefully, and its window files must equal those of an undisturbed
 * one-thread run of as many windows. Virtual time cuts windows by input calls, so nothing depends on the
 * clock; every wait is on a condition, bounded by the test's timeout.
 *
 * Few cases (each starts 3–4 processes): SLUICE_CLUSTER_FAULT_RUNS=N for more.
 * Replay a failure: SLUICE_PROPERTY_SEED=<seed> npx vitest run property-tests/cluster-faults.test.ts
 */
const seed = propertySeed;
const numRuns = Number(process.env.SLUICE_CLUSTER_FAULT_RUNS ?? 3);

type Fault = { kind: 'kill' | 'drop'; node: number; at: number } | { kind: 'supervisor'; at: number };

const faultArb = (nodes: number): fc.Arbitrary<Fault> =>
  fc.oneof(
    fc.record({
      kind: fc.constantFrom('kill' as const, 'drop' as const),
      node: fc.integer({ min: 0, max: nodes - 1 }),
      at: fc.integer({ min: 2, max: 14 }),
    }),
    fc.record({ kind: fc.constant('supervisor' as const), at: fc.integer({ min: 2, max: 14 }) }),
  );

const caseArb = fc.integer({ min: 2, max: 3 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    faults: fc
      .array(faultArb(nodes), { minLength: 1, maxLength: 3 })
      .map((fs) => [...fs].sort((a, b) => a.at - b.at)),
  }),
);

const EVERY_KIND = {
  nodes: 2,
  faults: [
    { kind: 'drop', node: 0, at: 3 },
    { kind: 'kill', node: 1, at: 6 },
    { kind: 'supervisor', at: 9 },
  ] satisfies Fault[],
};

const describeFault = (f: Fault, ids: readonly string[]) =>
  f.kind === 'supervisor' ? `supervisor@${f.at}` : `${f.kind} ${ids[f.node]}@${f.at}`;

async function fire(cluster: FaultCluster, f: Fault): Promise<void> {
  if (f.kind === 'supervisor') await cluster.restartSupervisor();
  else if (f.kind === 'kill') await cluster.killNode(cluster.nodeIds[f.node]!);
  else await cluster.dropConnection(cluster.nodeIds[f.node]!);
}

/**
 * How long one step may wait for the application (a recovery included) before the case counts as
 * stalled: it then fails with the supervisor's view and every process's log, instead of running into
 * the test's timeout with neither.
 */
const STALL_MS = Number(process.env.SLUICE_CLUSTER_STALL_MS ?? 150_000);

/** `p`, or a failure saying `why` once it took STALL_MS. */
async function withinStall<T>(p: Promise<T>, why: () => Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((r) => {
    timer = setTimeout(() => r('stalled'), STALL_MS);
  });
  const first = await Promise.race([p, stalled]).finally(() => clearTimeout(timer));
  if (first === 'stalled') throw new Error(`stalled: ${await why()}`);
  return first;
}

/** The application is running again, and past `window` (recovered from whatever came before). */
async function progressedPast(cluster: FaultCluster, out: string, window: number): Promise<void> {
  const deadline = performance.now() + STALL_MS;
  await until(async () => {
    const app = (await cluster.status()).apps[0];
    const files = (await windowFiles(out)).size;
    if (app?.state === 'running' && files > window) return true;
    if (performance.now() > deadline)
      throw new Error(
        `stalled: no window file past ${window} within ${STALL_MS} ms (${files} written); supervisor: ${JSON.stringify(app)}`,
      );
    return false;
  });
}

test(`cluster output unchanged under generated node kills, supervisor kills and connection drops (${numRuns} cases, seed ${seed})`, async () => {
  console.log(`cluster faults property seed ${seed}; replay with: SLUICE_PROPERTY_SEED=${seed}`);
  const tally = { cases: 0, faults: 0, restartsSeen: 0 };
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ nodes, faults }) => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-cluster-faults-'));
      const out = join(dir, 'out');
      const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
      const under = faults.map((f) => describeFault(f, ids)).join('; ');
      let cluster: FaultCluster | undefined;
      // Seconds from the case's start to each step: what a slow case spent its time on.
      const t0 = performance.now();
      const steps: string[] = [];
      const step = (name: string) => steps.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)}`);
      try {
        cluster = await startFaultCluster(join(dir, 'store'), ids, { SUMS_OUT: out });
        const c = cluster;
        step('started');
        await c.withClient((cl) => cl.launch(SUMS_APP, { virtualTime: true, containers: nodes }));
        step('launched');
        // Windows written when the last fault fired: the next waits for 2 more (recovered and running).
        let written = 0;
        for (const f of faults) {
          // At window W, or once the previous fault has been recovered from if that comes later.
          const at = Math.max(f.at, written + 2);
          await progressedPast(c, out, at - 1);
          step(`at ${at}`);
          await fire(c, f);
          written = (await windowFiles(out)).size;
          step(`${describeFault(f, ids)} (${written} written)`);
        }
        await progressedPast(c, out, written + 2);
        step('recovered');
        const stopped = await withinStall(
          c.withClient((cl) => cl.stop('running-sums')),
          async () =>
            `the graceful stop did not complete; supervisor: ${JSON.stringify((await c.status()).apps[0])}`,
        );
        step('stopped');
        if (stopped.state !== 'stopped') throw new Error(`under ${under}: ${JSON.stringify(stopped)}`);
        // A stop proposed while a restarted container replays may end below windows the sink applied
        // in an earlier life (they stay, fenced): every window up to the last written must match.
        const files = await windowFiles(out);
        const windows = Math.max(files.size, stopped.window);
        await referenceRun(join(dir, 'ref'), windows);
        const expected = await windowFiles(join(dir, 'ref'));
        const differ = [...expected.keys()].filter((k) => files.get(k) !== expected.get(k));
        if (files.size !== windows || differ.length > 0)
          throw new Error(
            `under ${under}: ${files.size} window files, stopped at ${stopped.window}; differing: ${differ.slice(0, 5).join(', ')}`,
          );
        step('compared');
        console.log(
          `cluster faults case ${under}: ${files.size} windows (stopped at ${stopped.window}), ${stopped.restarts} restarts; s: ${steps.join(', ')}`,
        );
        tally.cases++;
        tally.faults += faults.length;
        tally.restartsSeen += stopped.restarts;
      } catch (e) {
        if (cluster)
          process.stderr.write(`cluster faults case ${under} failed; processes:\n${cluster.dump()}`);
        throw e;
      } finally {
        await cluster?.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }),
    {
      seed,
      numRuns,
      // No shrinking: each case costs seconds of processes; the seed and the schedule in the error replay it.
      endOnFailure: true,
      // The first case (counted in numRuns) has every kind of fault, so each run of this file covers all.
      examples: [[EVERY_KIND]],
    },
  );
  console.log(`cluster faults property tally ${JSON.stringify(tally)}`);
  expect(tally.cases).toBe(numRuns);
}, 600_000);
