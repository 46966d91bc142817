import { linkSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError, WindowFencedOutput } from '../src/index.ts';
import { FileFence } from './file-fence.ts';
import { checkProps } from './props.ts';

export interface FileSinkProps {
  /** Directory for the window files (created if missing). */
  dir: string;
  /** Formats one tuple as a line (default JSON). */
  format?: (tuple: unknown) => string;
}

/**
 * A tuple the default format cannot write as a line of JSON (a BigInt, a cycle, a function, undefined):
 * a replay brings the same tuple again, so a restart cannot help; the message says to give `format`.
 */
export class TupleNotJsonError extends SluiceError {
  readonly restartable = false;
  constructor(actorId: string, window: number, reason: string) {
    super(
      'SLUICE_TUPLE_NOT_JSON',
      `FileSink ${actorId}: a tuple of window ${window} cannot be written as a line of JSON (${reason}); give the sink a format prop that turns such tuples into text`,
    );
  }
}

function jsonLine(t: unknown, actorId: string, window: number): string {
  let line: string | undefined;
  try {
    line = JSON.stringify(t);
  } catch (e) {
    throw new TupleNotJsonError(actorId, window, (e as Error).message);
  }
  if (line === undefined) throw new TupleNotJsonError(actorId, window, `the tuple is ${typeof t}`);
  return line;
}

const WINDOW_FILE = /^window-(\d+)\.jsonl$/;
/** A window's body while it is written: `window-000000042.jsonl.<epoch>.tmp`. */
const TEMP_FILE = /^window-\d+\.jsonl\.(\d+)\.tmp$/;

/**
 * Writes each window to its own file, `window-000000042.jsonl`, exactly once: the body is written under
 * a temporary name and linked into place (atomic), so a window file exists only if the window was fully
 * applied, and the newest file is the last applied window: replayed windows at or below it are skipped.
 * With several partitions, each writes under its own subdirectory `p<partition>`.
 *
 * Fenced (docs/guarantees.md, Exactly-once outputs): setup claims the directory for the instance's epoch
 * (`.fence/`, see FileFence), and the commit checks the fence and links the file in one synchronous step, so
 * a replaced instance whose apply settles late is refused (FencedOutputError) and removes its temporary file.
 * A window file is never replaced (link fails if it exists, where rename would overwrite): across processes,
 * where the check and the link are not one step, a stalled old instance can at worst write a window first,
 * and the new one then finds it applied; it is never written twice. (So the directory must be on a filesystem
 * with hard links, as every local Linux and macOS one is.)
 */
export class FileSink<T> extends WindowFencedOutput<T, {}, FileSinkProps> {
  private dir = '';
  private fence!: FileFence;

  constructor(props?: FileSinkProps) {
    super(props);
    checkProps('FileSink', this.props, { dir: 'path', format: 'function' }, ['dir']);
  }

  protected override async open(): Promise<void> {
    this.dir = this.ctx.partitions > 1 ? join(this.props.dir, `p${this.ctx.partition}`) : this.props.dir;
    await mkdir(this.dir, { recursive: true });
    this.fence = new FileFence(this.dir, this.ctx.actorId);
  }

  protected override claim(epoch: number): void {
    this.fence.claim(epoch);
    // Bodies older instances left behind (killed before their commit, or refused): never committed now.
    for (const name of readdirSync(this.dir)) {
      const m = TEMP_FILE.exec(name);
      if (m && Number(m[1]) < epoch) rmSync(join(this.dir, name), { force: true });
    }
  }

  protected async lastAppliedWindow(): Promise<number> {
    let last = 0;
    for (const name of await readdir(this.dir)) {
      const m = WINDOW_FILE.exec(name);
      if (m) last = Math.max(last, Number(m[1]));
    }
    return last;
  }

  protected async applyWindow(window: number, tuples: T[], epoch: number): Promise<void> {
    const format = this.props.format ?? ((t: unknown) => jsonLine(t, this.ctx.actorId, window));
    const body = tuples.map((t) => `${format(t)}\n`).join('');
    const file = join(this.dir, `window-${String(window).padStart(9, '0')}.jsonl`);
    const temp = `${file}.${epoch}.tmp`;
    await writeFile(temp, body);
    this.commit(temp, file, epoch);
  }

  /** The conditional write: synchronous, so nothing in this process runs between the check and the link. */
  private commit(temp: string, file: string, epoch: number): void {
    try {
      this.fence.check(epoch);
      linkSync(temp, file);
    } catch (e) {
      // EEXIST: an old instance in another process committed this window after our claim (see above).
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      rmSync(temp, { force: true });
    }
  }
}
