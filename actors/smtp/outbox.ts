import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { FileFence } from '../file-fence.ts';

/**
 * The outbox of SmtpAlert: which alerts the SMTP server has acknowledged, durable as soon as it said so.
 *
 * Why a journal of its own and not operator state: state is checkpointed every few windows, so an alert
 * sent after the last checkpoint and then a crash would be forgotten, and the replay would send it again.
 * Why not the snapshot store: an operator cannot reach it (and must not write between checkpoints). So it
 * is a directory of small files, each written and fsynced (file and directory) before the output goes on:
 *
 *     <dir>/.fence/<epoch>          FileFence: the newest epoch that claimed the outbox
 *     <dir>/acked/<window>/<id>     one empty file per acknowledged Message-ID of a window being applied
 *     <dir>/applied                 the newest window whose alerts were all acknowledged (rename: atomic)
 *
 *     send(id) ── 250 ──▶ record(w, id) ──▶ … every alert of w … ──▶ finish(w): applied := w, rm acked/w
 *
 * A replayed window at or below `applied` is skipped whole (WindowFencedOutput); a replay of the window
 * that was half sent skips every id recorded under it. The one gap left is a crash between the server's
 * 250 and the record (a few milliseconds): that alert is sent again, with the same Message-ID, which is
 * what at-least-once with a deterministic id means — a receiver can drop the second copy.
 *
 * The fence (FileFence) stops a replaced instance from sending: it checks before each send, and a newer
 * instance claimed the outbox first. The outbox belongs to one snapshot store: delete it with the store. (A
 * fresh store starts again at window 1, whose Message-IDs an old outbox may hold; its fence refuses the new
 * run only if the old one reached a newer epoch, which one launch alone does not.)
 */
export class AlertOutbox {
  readonly fence: FileFence;
  private readonly acked: string;
  private applied = 0;
  private windowDir = '';
  private windowDirWindow = -1;

  constructor(
    readonly dir: string,
    owner: string,
  ) {
    this.fence = new FileFence(dir, owner);
    this.acked = join(dir, 'acked');
  }

  /** Claims the outbox for `epoch`, clears what finished windows left, and returns the last applied window. */
  claim(epoch: number): number {
    mkdirSync(this.acked, { recursive: true });
    this.fence.claim(epoch);
    try {
      this.applied = Number(readFileSync(join(this.dir, 'applied'), 'utf8')) || 0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.applied = 0;
    }
    for (const name of readdirSync(this.acked)) {
      if (Number(name) <= this.applied) rmSync(join(this.acked, name), { recursive: true, force: true });
    }
    return this.applied;
  }

  lastApplied(): number {
    return this.applied;
  }

  /** Was `id` acknowledged in window `window` (before a crash or by a replaced instance)? */
  has(window: number, id: string): boolean {
    try {
      readFileSync(join(this.acked, String(window), id));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  /** Records that the server acknowledged `id`; durable when this returns. */
  record(window: number, id: string): void {
    const dir = this.dirOf(window);
    const fd = openSync(join(dir, id), 'w');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    syncDir(dir);
  }

  /** Every alert of `window` was acknowledged: it becomes the last applied window, its records go. */
  finish(window: number): void {
    const temp = join(this.dir, 'applied.tmp');
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, String(window));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(this.dir, 'applied'));
    syncDir(this.dir);
    this.applied = window;
    this.windowDirWindow = -1;
    rmSync(join(this.acked, String(window)), { recursive: true, force: true });
  }

  private dirOf(window: number): string {
    if (this.windowDirWindow !== window) {
      this.windowDir = join(this.acked, String(window));
      mkdirSync(this.windowDir, { recursive: true });
      syncDir(this.acked);
      this.windowDirWindow = window;
    }
    return this.windowDir;
  }
}

/** Makes the directory's entries durable (a created or renamed file survives a power cut, not just a crash). */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
