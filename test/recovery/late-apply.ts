import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFence } from '../../actors/index.ts';
import { WindowFencedOutput } from '../../src/index.ts';

/**
 * Stages one late apply, whatever the timing: the first instance of `partition` to apply `window` (the
 * zombie) is held until an instance built in a newer epoch (its replacement, after the runtime gave up
 * on the held apply at lifecycleTimeoutMs) applied the same window; only then does the held apply try to
 * write. So the late write always comes after the replacement's, as a paused process's would.
 */
export class LateApply {
  /** The epoch the held apply was built in (0 until one is held). */
  zombieEpoch = 0;
  /** What the held apply ended with: undefined if it wrote, else what it threw. */
  readonly outcome: Promise<unknown>;
  readonly replacementApplied: Promise<void>;
  private settle!: (outcome: unknown) => void;
  private replaced!: () => void;

  constructor(
    readonly partition: number,
    readonly window: number,
  ) {
    this.outcome = new Promise((r) => (this.settle = r));
    this.replacementApplied = new Promise((r) => (this.replaced = r));
  }

  async around(partition: number, window: number, epoch: number, apply: () => unknown): Promise<void> {
    if (partition !== this.partition || window !== this.window) {
      await apply();
      return;
    }
    if (this.zombieEpoch === 0) {
      this.zombieEpoch = epoch;
      await this.replacementApplied;
      try {
        await apply();
        this.settle(undefined);
      } catch (e) {
        this.settle(e);
        throw e;
      }
      return;
    }
    await apply();
    if (epoch > this.zombieEpoch) this.replaced();
  }
}

export interface AppendedWindow {
  window: number;
  epoch: number;
  tuples: number[];
}

export interface AppendingSinkProps {
  dir: string;
  late?: LateApply;
  /** Leave out the epoch check (what an output written before fencing does). */
  unfenced?: boolean;
}

/**
 * An appending output, as a log or a transactional table would be: each window is one line appended to
 * `<dir>/p<partition>/out.jsonl`. Its conditional write checks only the epoch, atomically with the
 * append (synchronous): after its claim only this instance writes, so the base class's in-memory last
 * window is the file's. Re-appending a window is a duplicate, which is what fencing must prevent.
 */
export class AppendingSink extends WindowFencedOutput<number, {}, AppendingSinkProps> {
  private file = '';
  private fence!: FileFence;

  protected override open(): void {
    const dir = join(this.props.dir, `p${this.ctx.partition}`);
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'out.jsonl');
    this.fence = new FileFence(dir, this.ctx.actorId);
  }

  protected override claim(epoch: number): void {
    if (!this.props.unfenced) this.fence.claim(epoch);
  }

  protected lastAppliedWindow(): number {
    return Math.max(0, ...readAppendFile(this.file).map((w) => w.window));
  }

  protected async applyWindow(window: number, tuples: number[], epoch: number): Promise<void> {
    const line = `${JSON.stringify({ window, epoch, tuples })}\n`;
    const write = () => {
      if (!this.props.unfenced) this.fence.check(epoch);
      appendFileSync(this.file, line);
    };
    if (this.props.late) await this.props.late.around(this.ctx.partition, window, epoch, write);
    else write();
  }
}

function readAppendFile(file: string): AppendedWindow[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AppendedWindow);
}

/** Every partition's appended windows, in file order: `p<k>` → windows. */
export function readAppended(dir: string): Map<string, AppendedWindow[]> {
  const parts = readdirSync(dir)
    .filter((d) => /^p\d+$/.test(d))
    .sort();
  return new Map(parts.map((p) => [p, readAppendFile(join(dir, p, 'out.jsonl'))]));
}
