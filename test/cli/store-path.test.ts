import { spawn } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exited, errorLines, repoRoot, sluice, type TempDir, tempDir } from './cli-process.ts';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await tempDir();
  await tmp.write(
    'app.ts',
    `import { application } from 'sluice';
import { SequenceSource } from 'sluice/actors';
export default application('store-path', (dag) => {
  dag.add('source', SequenceSource, { tuplesPerWindow: 1 });
});
`,
  );
  await tmp.write('a-file', 'not a store\n');
  // Another user must be able to read the app (below, the run as nobody) but not write in `locked`.
  await chmod(tmp.dir, 0o755);
  await mkdir(join(tmp.dir, 'locked'));
  await chmod(join(tmp.dir, 'locked'), 0o555);
});
afterAll(() => tmp.cleanup());

/** Nobody: root may write anywhere, so an unwritable directory needs another user when tests run as root. */
const NOBODY = 65534;

/** `sluice run app.ts --store STORE` as a user for whom `locked` is not writable. */
function runAsOtherUser(store: string): Promise<Exited> {
  const asRoot = process.getuid?.() === 0;
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'src', 'cli', 'bin.js'),
      'run',
      'app.ts',
      '--containers',
      '0',
      '--store',
      store,
      '--windows',
      '1',
    ],
    {
      cwd: tmp.dir,
      env: { ...process.env, NO_COLOR: '1', HOME: tmp.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    },
  );
  const printed = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (printed.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (printed.stderr += s));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, ...printed })));
}

/** Exit 2 and nothing on stderr but one `sluice:` line. */
function oneLine(r: Exited): string {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/Database failed to open/);
  return errorLines(r.stderr)[0]!;
}

describe('sluice run: a store path that cannot hold a store is one line and exit 2', {
  timeout: 20_000,
}, () => {
  it('a plain file', async () => {
    const line = oneLine(await sluice(['run', 'app.ts', '--containers', '0', '--store', 'a-file'], tmp.dir));
    expect(line).toBe(
      `sluice: bad store (SLUICE_STORE_PATH): The snapshot store directory ${join(tmp.dir, 'a-file')} is a ` +
        'file, not a directory. Give the run a store directory it can create and write (sluice run --store ' +
        '<dir>, or the store option of launch()).',
    );
  });

  it('a path under a file', async () => {
    const line = oneLine(
      await sluice(['run', 'app.ts', '--containers', '0', '--store', 'a-file/store'], tmp.dir),
    );
    expect(line).toMatch(
      /^sluice: bad store \(SLUICE_STORE_PATH\): .*a-file\/store cannot be created: .*a-file is a file/,
    );
  });

  it('a folder that can never be made (under /proc, where a recursive mkdir spins forever)', async () => {
    const line = oneLine(
      await sluice(['run', 'app.ts', '--containers', '0', '--store', '/proc/sluice-store/x'], tmp.dir),
    );
    expect(line).toMatch(
      /^sluice: bad store \(SLUICE_STORE_PATH\): .*\/proc\/sluice-store\/x cannot be created: making \/proc\/sluice-store failed \(ENOENT\)/,
    );
  });

  it('a directory that is not writable, and one that cannot be created in it', async () => {
    const existing = oneLine(await runAsOtherUser('locked'));
    expect(existing).toMatch(
      /^sluice: bad store \(SLUICE_STORE_PATH\): The snapshot store directory .*\/locked is not writable by this process\./,
    );
    const inside = oneLine(await runAsOtherUser('locked/store'));
    expect(inside).toMatch(/locked\/store cannot be created: .*\/locked is not writable by this process\./);
  });
});
