import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../setup/redis.ts';
import { errorLines, sluice } from './cli-process.ts';

describe('sluice run --store redis://…', { timeout: 30_000 }, () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.close();
  });

  it('checkpoints to Redis, releases the store at the end, and a relaunch continues after the last commit', async () => {
    db = await freshDatabase();
    const args = [
      'run',
      'examples/hello/app.ts',
      '--containers',
      '0',
      '--window-ms',
      '30',
      '--store',
      db.url,
    ];
    const first = await sluice([...args, '--windows', '4']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/committed 4/);
    expect(errorLines(first.stderr)).toEqual([]);
    const markers = await db.client.keys('{hello}:mark:*');
    expect(markers.length).toBeGreaterThan(0);
    expect(await db.client.exists('{hello}:lock')).toBe(0);

    const second = await sluice([...args, '--windows', '6']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('hello [1] ');
    expect(second.stdout).toContain('hello [6] ');
  });

  it('a store nobody answers at is bad input: one line, exit 2, the run never started', async () => {
    const r = await sluice([
      'run',
      'examples/hello/app.ts',
      '--containers',
      '0',
      '--store',
      'redis://127.0.0.1:1/0',
      '--windows',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r.stderr).at(-1)).toMatch(
      /SLUICE_STORE_UNREACHABLE|Cannot connect to the Redis snapshot store/,
    );
  });
});
