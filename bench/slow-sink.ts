/**
 * Backpressure paces windows: 10 ms windows in front of a sink whose endWindow takes 50 ms. The sink can
 * take 20 windows a second, whatever their size; the figures say how close the pipeline runs to that,
 * whether the source got tuples through in every second, how many windows were in flight, what memory
 * it took and how long a graceful stop took. Runs in this process (it measures pacing, not speed).
 */
import { SequenceSource } from '../actors/index.ts';
import { application, launch, MemorySnapshotStore, Operator, WINDOWS_IN_FLIGHT } from '../src/index.ts';
import type { Section } from './section.ts';

class SlowSink extends Operator<{ count: number }> {
  readonly in = this.input<number>(() => {
    this.state.count++;
  });
  override initialState() {
    return { count: 0 };
  }
  override endWindow(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const app = application(
  'slow-sink',
  (dag) => {
    const src = dag.add('src', SequenceSource, { tuplesPerWindow: 20_000, batch: 1024 });
    const sink = dag.add('sink', SlowSink);
    dag.stream('numbers', src.out, sink.in);
  },
  { streamingWindowMs: 10 },
);

export const slowSinkSection: Section = {
  title: 'slow sink: 10 ms windows, a sink whose endWindow takes 50 ms',
  async run(options) {
    const seconds = options.quick ? 2 : 6;
    const run = await launch(app, { store: new MemorySnapshotStore() });
    const started = performance.now();
    const tuples = new Array<number>(seconds).fill(0);
    const windows = new Array<number>(seconds).fill(0);
    let last = 0;
    let inFlight = 0;
    let peakRss = 0;
    const rssBefore = process.memoryUsage().rss;
    run.on('status', (e) => {
      if (e.type !== 'window') return;
      const s = Math.floor((performance.now() - started) / 1000);
      if (s < seconds) {
        tuples[s]! += e.tuples - last;
        windows[s]!++;
      }
      last = e.tuples;
    });
    const sampler = setInterval(() => {
      const ops = run.stats().operators;
      const src = ops.find((o) => o.actorId === 'src')!.window;
      const sink = ops.find((o) => o.actorId === 'sink')!.window;
      inFlight = Math.max(inFlight, src - sink);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 5);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const stopAt = performance.now();
    await run.stop();
    const stopMs = performance.now() - stopAt;
    clearInterval(sampler);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const figures = {
      slowSinkWindowsPerSecMedian: median(windows),
      slowSinkTuplesPerSecMin: Math.min(...tuples),
      slowSinkTuplesPerSecMedian: median(tuples),
      slowSinkMaxWindowsInFlight: inFlight,
      slowSinkRssGrowthMb: Math.round((peakRss - rssBefore) / 1e5) / 10,
      slowSinkStopMs: Math.round(stopMs),
    };
    return {
      lines: [
        `windows/s: median ${figures.slowSinkWindowsPerSecMedian} (the sink takes at most 20/s); per second: ${windows.join(', ')}`,
        `tuples/s: min ${figures.slowSinkTuplesPerSecMin}, median ${figures.slowSinkTuplesPerSecMedian}`,
        `windows in flight: at most ${inFlight} (bound ${WINDOWS_IN_FLIGHT}); RSS growth ${figures.slowSinkRssGrowthMb} MB; graceful stop ${figures.slowSinkStopMs} ms`,
      ],
      figures,
    };
  },
};
