import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceSource } from '../../actors/index.ts';
import { application, LevelSnapshotStore, launch, StorePathError } from '../../src/index.ts';
import { storePathProblem } from '../../src/storage/store-path.ts';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-store-path-'));
  file = join(dir, 'a-file');
  await writeFile(file, 'not a store\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const app = application('store-path', (dag) => {
  dag.add('src', SequenceSource, { tuplesPerWindow: 1 });
});

async function launchError(store: string): Promise<StorePathError> {
  const err = await launch(app, { store, windows: 1, virtualTime: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorePathError);
  return err as StorePathError;
}

describe('a store path that cannot hold a store', () => {
  it('a plain file: launch rejects with SLUICE_STORE_PATH saying so', async () => {
    const err = await launchError(file);
    expect(err.code).toBe('SLUICE_STORE_PATH');
    expect(err.message).toBe(
      `The snapshot store directory ${file} is a file, not a directory. Give the run a store directory it ` +
        'can create and write (sluice run --store <dir>, or the store option of launch()).',
    );
    expect(err.message).not.toMatch(/Database failed to open/);
  });

  it('a path under a file: names the file in the way', async () => {
    const err = await launchError(join(file, 'deeper', 'store'));
    expect(err.message).toContain(`${join(file, 'deeper', 'store')} cannot be created: ${file} is a file`);
  });

  it('/etc/passwd/x: the same', async () => {
    const err = await launchError('/etc/passwd/x');
    expect(err.message).toContain('/etc/passwd/x cannot be created: /etc/passwd is a file, not a directory');
  });

  it('a store that opens is not second-guessed; a failure for another reason passes through', async () => {
    const ok = join(dir, 'fine', 'store');
    await mkdir(join(dir, 'fine'));
    const store = new LevelSnapshotStore(ok);
    await store.open();
    await store.close();
    expect(await storePathProblem(ok, new Error('something else'))).toBeUndefined();
  });
});
