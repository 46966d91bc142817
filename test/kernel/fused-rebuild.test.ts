import { describe, expect, it } from 'vitest';
import { SequenceSource } from '../../actors/index.ts';
import { application, launch, MemorySnapshotStore, Operator, RestartStrategy } from '../../src/index.ts';

/** What every Seen instance was handed, by instance number (a recovery builds new instances). */
const seen = new Map<number, unknown[]>();
let instances = 0;
const slow = { done: false, emitted: false };
/** `mid`'s emit as each of its instances was wired. */
const emits: unknown[] = [];

/** Forwards every tuple; its endWindow of window 2 takes 150 ms the first time, then emits 'late'. */
class SlowOnce extends Operator {
  readonly out = this.output<unknown>();
  readonly in = this.input<number>((n) => this.out.emit(n));
  private window = 0;

  override setup(): void {
    emits.push(this.out.emit);
  }

  override beginWindow(w: number): void {
    this.window = w;
  }

  override endWindow(): void | Promise<void> {
    if (this.window !== 2 || slow.done) return;
    slow.done = true;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.out.emit('late');
        slow.emitted = true;
        resolve();
      }, 150),
    );
  }
}

class Seen extends Operator {
  private readonly instance = ++instances;
  readonly in = this.input<unknown>((t) => {
    const list = seen.get(this.instance) ?? [];
    list.push(t);
    seen.set(this.instance, list);
  });
}

describe('a fused chain rebuilt by a recovery', () => {
  it('keeps each emit the same function and drops what a replaced instance emits late (its links now serve the new instances)', async () => {
    const app = application('fused-rebuild', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 3 });
      const mid = dag.add('mid', SlowOnce);
      const sink = dag.add('sink', Seen);
      dag.stream('a', src.out, mid.in).locality('thread');
      dag.stream('b', mid.out, sink.in).locality('thread');
    });
    const run = await launch(app, {
      store: new MemorySnapshotStore(),
      windows: 6,
      virtualTime: true,
      checkpointWindowCount: 1,
      // The slow endWindow times out: a recovery replaces the chain while it is still pending.
      lifecycleTimeoutMs: 50,
      restart: RestartStrategy.restart().withBackoff(0, 0),
    });
    let recoveries = 0;
    run.on('status', (e) => {
      if (e.type === 'recovered') recoveries++;
    });
    await run.done;
    while (!slow.emitted) await new Promise((r) => setTimeout(r, 20));
    expect(recoveries).toBe(1);
    const all = [...seen.values()].flat();
    expect(all).not.toContain('late');
    // The rebuilt instance emits through the very same function (so the JIT keeps the chain inlined).
    expect(emits).toHaveLength(2);
    expect(emits[1]).toBe(emits[0]);
    // The rebuilt chain still delivers through the same links.
    const last = seen.get(instances)!;
    expect(last.length).toBeGreaterThan(0);
    expect(last.every((t) => typeof t === 'number')).toBe(true);
  });
});
