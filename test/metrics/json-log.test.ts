/** `sluice run --json`: one JSON line per window-level happening, never one per tuple. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice, type TempDir, tempDir } from '../cli/cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

describe('sluice run --json', () => {
  it('logs a window line per window and a commit line per commit, and no line per tuple', async () => {
    const r = await sluice([
      'run',
      'examples/max-cpu/app.ts',
      '--containers',
      '0',
      '--store',
      `${tmp.dir}/store`,
      '--window-ms',
      '20',
      '--windows',
      '12',
      '--checkpoint-every',
      '4',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const entries = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const windows = entries.filter((e) => e.event === 'window');
    expect(windows.map((e) => e.window)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const w of windows)
      expect(w).toMatchObject({
        tuples: expect.any(Number),
        committed: expect.any(Number),
        commitLag: expect.any(Number),
      });
    expect(entries.filter((e) => e.event === 'commit').map((e) => e.window)).toEqual([4, 8, 12]);
    // 1,200 tuples went through: the log stays a few lines per window.
    expect(entries.length).toBeLessThan(12 * 3 + 10);
  });
});
