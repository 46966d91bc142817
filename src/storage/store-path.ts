import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorePathError } from './errors.ts';

/**
 * Why a store directory could not be opened, when the reason is the path itself: it is a file, a parent
 * of it is a file, or it (or the directory it would be created in) is not writable. Asked only after
 * LevelDB failed to open, whose own error says no more than "Database failed to open".
 */
export async function storePathProblem(dir: string, cause: unknown): Promise<StorePathError | undefined> {
  const found = await nearestExisting(dir);
  if (found === undefined) return undefined;
  if (!found.isDirectory) {
    return found.path === dir
      ? new StorePathError(dir, 'is a file, not a directory', { cause })
      : new StorePathError(dir, `cannot be created: ${found.path} is a file, not a directory`, { cause });
  }
  try {
    await access(found.path, constants.W_OK | constants.X_OK);
  } catch {
    return found.path === dir
      ? new StorePathError(dir, 'is not writable by this process', { cause })
      : new StorePathError(dir, `cannot be created: ${found.path} is not writable by this process`, {
          cause,
        });
  }
  // The directory is writable, but LevelDB could not create its files in it (e.g. a read-only file system).
  const code = (cause as { cause?: { code?: unknown } })?.cause?.code;
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new StorePathError(dir, `cannot be written (${code})`, { cause });
  }
  return undefined;
}

async function nearestExisting(path: string): Promise<{ path: string; isDirectory: boolean } | undefined> {
  for (let p = path; ; p = dirname(p)) {
    try {
      return { path: p, isDirectory: (await stat(p)).isDirectory() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') continue; // a parent is a file: keep going up until stat finds it
      if (code !== 'ENOENT') return undefined;
      if (dirname(p) === p) return undefined;
    }
  }
}

/**
 * Creates a store directory's missing folders one at a time (LevelDB would ask for them all at once, and
 * Node's recursive mkdir spins forever where a folder can never be made, as under /proc). A folder that
 * cannot be made is a StorePathError naming it; anything else is left for LevelDB's open to report.
 */
export async function makeStoreDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = dir; ; p = dirname(p)) {
    try {
      await stat(p);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) return;
      missing.push(p);
    }
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return; // said at open
      throw new StorePathError(dir, `cannot be created: making ${folder} failed (${code ?? String(e)})`, {
        cause: e,
      });
    }
  }
}
