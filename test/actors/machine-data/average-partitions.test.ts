import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test, vi } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'sluice-machine-data-avg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Record = { key: string; count: number; window: number };

/** Runs examples/machine-data (read afresh: its config is read at import) and returns its average records. */
async function runExample(averagePartitions: number): Promise<Map<string, Record[]>> {
  const out = join(dir, `avg-${averagePartitions}`);
  Object.assign(process.env, {
    MACHINE_DATA_OUT: out,
    APP_WINDOW: '2',
    READINGS_PER_WINDOW: '300',
    PARTITIONS: '2',
    AVERAGE_PARTITIONS: String(averagePartitions),
  });
  vi.resetModules();
  // The engine is imported afresh too: the example's operators must be of the same module instance.
  const { launch, MemorySnapshotStore } = await import('../../../src/index.ts');
  const { default: app } = await import('../../../examples/machine-data/app.ts');
  const run = await launch(app, { store: new MemorySnapshotStore(), virtualTime: true, windows: 4 });
  await run.done;
  const byDir = new Map<string, Record[]>();
  const root = join(out, 'averages');
  const dirs = averagePartitions > 1 ? readdirSync(root).map((d) => join(root, d)) : [root];
  for (const d of dirs) {
    const files = readdirSync(d).filter((f) => f.endsWith('.jsonl'));
    byDir.set(
      d,
      files.flatMap((f) =>
        readFileSync(join(d, f), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record),
      ),
    );
  }
  return byDir;
}

/** Readings counted per key, the minute left out (two runs may straddle a minute differently). */
function countsByKey(records: Record[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const key = `${r.window}|${r.key.replace(/\|day=.*$/, '')}`;
    counts.set(key, (counts.get(key) ?? 0) + r.count);
  }
  return counts;
}

test('--average-partitions 2: each Average partition owns whole keys, and together they count what one does', async () => {
  const one = await runExample(1);
  const two = await runExample(2);
  expect([...two.keys()].map((d) => d.split('/').pop()).sort()).toEqual(['p0', 'p1']);
  const [p0, p1] = [...two.values()];
  expect(p0!.length).toBeGreaterThan(0);
  expect(p1!.length).toBeGreaterThan(0);
  const keysOf = (rs: Record[]) => new Set(rs.map((r) => r.key));
  const k0 = keysOf(p0!);
  expect([...keysOf(p1!)].filter((k) => k0.has(k))).toEqual([]);
  const single = countsByKey([...one.values()].flat());
  expect(countsByKey([...p0!, ...p1!])).toEqual(single);
  expect(single.get('2|*')).toBe(1200);
});
