/**
 * One run of the large-state application, timed from the inside (see large-state.ts):
 * `node --expose-gc --import tsx bench/large-state-run.ts '<LargeStateJob JSON>'` prints a LargeStateResult.
 *
 * `src → state` on the real clock; `state` holds `keys` small keys (a Map or a DurableMap of string →
 * number), filled in setup() on a fresh store, and adds 1 to a pseudo-random key per tuple.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SequenceSource } from '../actors/index.ts';
import { GROUPS } from '../src/api/durable-map.ts';
import { application, DurableMap, launch, Operator, type OperatorContext } from '../src/index.ts';

export interface LargeStateJob {
  dir: string;
  durable: boolean;
  /** checkpointWindowCount (0: off). */
  every: number;
  keys: number;
  perWindow: number;
  windowMs: number;
  /** The last window of this run (a relaunch runs one window past the store's last). */
  windows: number;
  /** If set, every tuple of this run updates one of the keys k0 … k(hotKeys − 1) only (a first window
   * after a relaunch that touches few keys). */
  hotKeys?: number;
}

export interface LargeStateResult {
  /** launch() → the `started` event (the store opened and every actor restored). */
  startedMs: number;
  /** launch() → the first window of this run done. */
  firstWindowMs: number;
  /** Per window of this run after its first: time since the previous window was done. */
  gapsMs: number[];
  /** The window after the longest gap. */
  maxGapWindow: number;
  /** Longest the event loop was blocked after the first window (monitorEventLoopDelay, 10 ms resolution). */
  loopMaxMs: number;
  /** Per checkpoint of `state`: its window done → its snapshot durable. */
  checkpointMs: number[];
  restoredWindow: number;
  /** Sum of every count in the map at teardown: tuples the state has seen (a correctness check). */
  sum: number;
  /** DurableMap: key groups still unbuilt at the end of the first window (after the teardown's sum: 0). */
  unbuiltAfterFirstWindow: number;
}

/** A pseudo-random key per tuple (multiplicative hash), so that updates spread over the whole map. */
const keyOf = (n: number, keys: number) => `k${(n * 2654435761) % keys}`;

let sumAtTeardown = 0;
let unbuiltAfterFirstWindow = -1;

class BigState extends Operator<
  { counts: Map<string, number> },
  { keys: number; durable: boolean; hotKeys: number }
> {
  readonly in = this.input<number>((n) => {
    const key = keyOf(n, this.props.hotKeys > 0 ? this.props.hotKeys : this.props.keys);
    const counts = this.state.counts;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });

  override initialState() {
    return { counts: this.props.durable ? new DurableMap<string, number>() : new Map<string, number>() };
  }

  /** A fresh store: the table is seeded with every key (a relaunch restores it instead). */
  override setup(_ctx: OperatorContext): void {
    const counts = this.state.counts;
    if (counts.size === 0) for (let i = 0; i < this.props.keys; i++) counts.set(`k${i}`, 0);
  }

  override endWindow(): void {
    const counts = this.state.counts;
    if (unbuiltAfterFirstWindow < 0)
      unbuiltAfterFirstWindow = counts instanceof DurableMap ? counts[GROUPS].unbuiltCount : 0;
  }

  override teardown(): void {
    let sum = 0;
    for (const v of this.state.counts.values()) sum += v;
    sumAtTeardown = sum;
  }
}

export async function runLargeState(job: LargeStateJob): Promise<LargeStateResult> {
  const app = application(
    'large-state',
    (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: job.perWindow, batch: 1024 });
      const state = dag.add('state', BigState, {
        keys: job.keys,
        durable: job.durable,
        hotKeys: job.hotKeys ?? 0,
      });
      dag.stream('numbers', src.out, state.in);
    },
    { streamingWindowMs: job.windowMs, checkpointWindowCount: job.every },
  );
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const windowDone = new Map<number, number>();
  const checkpointMs: number[] = [];
  let startedMs = 0;
  let restoredWindow = 0;
  const t0 = performance.now();
  const run = await launch(app, { store: job.dir, windows: job.windows });
  run.on('status', (e) => {
    const now = performance.now();
    if (e.type === 'started') {
      startedMs = now - t0;
      restoredWindow = e.restoredWindow;
    } else if (e.type === 'window') {
      if (windowDone.size === 0) loop.enable();
      windowDone.set(e.window, now);
    } else if (e.type === 'checkpoint' && e.actorId === 'state') {
      const done = windowDone.get(e.window);
      if (done !== undefined) checkpointMs.push(now - done);
    }
  });
  await run.done;
  loop.disable();
  const times = [...windowDone.entries()].sort(([a], [b]) => a - b);
  const gapsMs: number[] = [];
  let maxGapWindow = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]![1] - times[i - 1]![1];
    if (gapsMs.length === 0 || gap > Math.max(...gapsMs)) maxGapWindow = times[i]![0];
    gapsMs.push(gap);
  }
  return {
    startedMs,
    firstWindowMs: (times[0]?.[1] ?? t0) - t0,
    gapsMs,
    maxGapWindow,
    loopMaxMs: loop.max / 1e6,
    checkpointMs,
    restoredWindow,
    sum: sumAtTeardown,
    unbuiltAfterFirstWindow,
  };
}

if (process.argv[1]?.endsWith('large-state-run.ts')) {
  const result = await runLargeState(JSON.parse(process.argv[2] ?? '') as LargeStateJob);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
