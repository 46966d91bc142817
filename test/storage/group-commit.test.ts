import { expect, test } from 'vitest';
import { GroupCommit } from '../../src/storage/group-commit.ts';

test('writes that arrive while a batch is written go out together in the next batch, in order', async () => {
  const batches: number[][] = [];
  let release: () => void = () => {};
  const gc = new GroupCommit<number>(
    (ops) =>
      new Promise<void>((resolve) => {
        batches.push(ops);
        release = resolve;
      }),
  );
  const first = gc.write([1]);
  const rest = [gc.write([2, 3]), gc.write([4])];
  expect(batches).toEqual([[1]]);
  release();
  await first;
  await Promise.resolve();
  expect(batches).toEqual([[1], [2, 3, 4]]);
  release();
  await Promise.all(rest);
});

test('a failed batch rejects every write in it, and later writes still go out', async () => {
  let calls = 0;
  const gc = new GroupCommit<string>(async (ops) => {
    calls++;
    if (ops.includes('bad')) throw new Error('disk full');
  });
  await expect(gc.write(['bad'])).rejects.toThrow('disk full');
  await expect(gc.write(['good'])).resolves.toBeUndefined();
  expect(calls).toBe(2);
});
