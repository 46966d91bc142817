import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WindowFencedOutput } from '../src/index.ts';

export interface FileSinkProps {
  /** Directory for the window files (created if missing). */
  dir: string;
  /** Formats one tuple as a line (default JSON). */
  format?: (tuple: unknown) => string;
}

const WINDOW_FILE = /^window-(\d+)\.jsonl$/;

/**
 * Writes each window to its own file, `window-000000042.jsonl`, exactly once: the file is written under
 * a temporary name and renamed (atomic), so a window file exists only if the window was fully applied,
 * and the newest file is the fence: replayed windows at or below it are skipped.
 * With several partitions, each writes under its own subdirectory `p<partition>`.
 */
export class FileSink<T> extends WindowFencedOutput<T, {}, FileSinkProps> {
  private dir = '';

  protected override async open(): Promise<void> {
    this.dir = this.ctx.partitions > 1 ? join(this.props.dir, `p${this.ctx.partition}`) : this.props.dir;
    await mkdir(this.dir, { recursive: true });
  }

  protected async lastAppliedWindow(): Promise<number> {
    let last = 0;
    for (const name of await readdir(this.dir)) {
      const m = WINDOW_FILE.exec(name);
      if (m) last = Math.max(last, Number(m[1]));
    }
    return last;
  }

  protected async applyWindow(window: number, tuples: T[]): Promise<void> {
    const format = this.props.format ?? ((t: unknown) => JSON.stringify(t));
    const body = tuples.map((t) => `${format(t)}\n`).join('');
    const file = join(this.dir, `window-${String(window).padStart(9, '0')}.jsonl`);
    await writeFile(`${file}.tmp`, body);
    await rename(`${file}.tmp`, file);
  }
}
