import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FencedOutputError } from '../src/index.ts';

const EPOCH_FILE = /^\d+$/;

/**
 * The fence of an output that writes files (docs/guarantees.md, Exactly-once outputs): `<dir>/.fence/` holds
 * one empty file per epoch that claimed the output, named by the epoch; the newest epoch is the largest name.
 * Epoch files are created exclusively (O_EXCL) and only older ones are ever deleted, so the newest never goes
 * down, even with claimers in several processes (a single fence file rewritten by each claimer could go down:
 * two claimers read the same value and the older one writes last).
 *
 * Everything is synchronous on purpose: an output that calls `check(epoch)` and then writes in the same
 * synchronous step (as FileSink's commit does) cannot interleave with another instance in this process.
 * Across processes there is a gap between the check and the write; FileSink closes it for its own files
 * by never replacing a window file (link, not rename).
 */
export class FileFence {
  readonly path: string;

  /** `owner` names the instance in errors (its actor id). */
  constructor(
    dir: string,
    private readonly owner: string,
  ) {
    this.path = join(dir, '.fence');
  }

  /** The newest epoch that claimed the output (0: never claimed). */
  newest(): number {
    let newest = 0;
    let names: string[];
    try {
      names = readdirSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    for (const name of names) if (EPOCH_FILE.test(name)) newest = Math.max(newest, Number(name));
    return newest;
  }

  /** Raises the fence to `epoch`; throws FencedOutputError if a newer epoch claimed it already. */
  claim(epoch: number): void {
    mkdirSync(this.path, { recursive: true });
    this.check(epoch);
    try {
      writeFileSync(join(this.path, String(epoch)), '', { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // Another process may have claimed a newer epoch meanwhile.
    this.check(epoch);
    for (const name of readdirSync(this.path)) {
      if (EPOCH_FILE.test(name) && Number(name) < epoch) rmSync(join(this.path, name), { force: true });
    }
  }

  /** Throws FencedOutputError if an epoch newer than `epoch` claimed the output. */
  check(epoch: number): void {
    const newest = this.newest();
    if (newest > epoch) throw new FencedOutputError(`${this.owner} (${this.path})`, epoch, newest);
  }
}
