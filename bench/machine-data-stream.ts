import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Average, GenerateDimensions, PrereqAverage } from '../actors/index.ts';
import { ReadingGenerator } from '../actors/machine-data/reading-generator.ts';
import type { Alert, AverageRecord, Reading } from '../actors/machine-data/types.ts';
import type { Operator, OperatorContext } from '../src/index.ts';
import { MD_DAY, MD_MINUTE, MD_SEED, type MdWorkload, RecordChecksum } from './machine-data-workload.ts';

/** Marks the end of a streaming window in-band, as sluice's END(w) does. */
const WINDOW_END = Object.freeze({ windowEnd: true as const });

/** Chunks of one tuple each (objectMode's usual way), or arrays of up to 1,024 (sluice's batch size). */
export type Chunking = 'object' | 'batch';
const BATCH = 1024;

/**
 * The pipeline a Node user would write with the same stages: the very operators of actors/machine-data,
 * each driven inside an object-mode Transform (its window hooks called on in-band window ends, its outputs
 * pushed downstream), joined by stream.pipeline with the default highWaterMark (16 chunks). The last stage
 * is Average with its outputs folded into the checksum. No checkpoints (streams have none).
 */
export async function runMachineDataStream(w: MdWorkload, chunking: Chunking): Promise<RecordChecksum> {
  const into = new RecordChecksum();
  const appWindow = w.applicationWindowCount;
  await pipeline(
    readings(w, chunking),
    stage(new GenerateDimensions(), 1, chunking),
    stage(new PrereqAverage(), appWindow, chunking),
    sink(new Average(), appWindow, into),
  );
  return into;
}

function readings(w: MdWorkload, chunking: Chunking): Readable {
  const g = new ReadingGenerator({ seed: MD_SEED });
  let seq = 0;
  let inWindow = 0;
  let window = 0;
  return new Readable({
    objectMode: true,
    read() {
      for (;;) {
        if (window === w.windows) {
          this.push(null);
          return;
        }
        if (inWindow === w.readingsPerWindow) {
          inWindow = 0;
          window++;
          if (!this.push(WINDOW_END)) return;
          continue;
        }
        if (chunking === 'object') {
          inWindow++;
          if (!this.push(g.at(seq++, MD_MINUTE, MD_DAY))) return;
          continue;
        }
        const n = Math.min(BATCH, w.readingsPerWindow - inWindow);
        const batch: Reading[] = new Array(n);
        for (let i = 0; i < n; i++) batch[i] = g.at(seq++, MD_MINUTE, MD_DAY);
        inWindow += n;
        if (!this.push(batch)) return;
      }
    },
  });
}

/** An operator with its state, set up, its window count and its hooks, as the runtime would drive it. */
class Driven {
  readonly ctx = {
    operatorName: 'op',
    actorId: 'op',
    partition: 0,
    partitions: 1,
    applicationName: 'bench',
    streamingWindowMs: 1,
    applicationWindowCount: 1,
    windowId: 0,
    windowStartMs: 0,
    epoch: 1,
    wake: () => {},
  } satisfies OperatorContext;
  readonly handler: (t: unknown) => void;

  constructor(
    readonly op: Operator<any, any>,
    private readonly appWindow: number,
  ) {
    op.state = op.initialState();
    void op.setup(this.ctx);
    this.handler = (op as unknown as { in: { handler: (t: unknown) => void } }).in.handler;
    this.begin();
  }

  /** Points the operator's output port `name` at `emit`. */
  connect(name: string, emit: (t: unknown) => void): void {
    (this.op as unknown as Record<string, { emit: (t: unknown) => void }>)[name]!.emit = emit;
  }

  private begin(): void {
    const w = ++this.ctx.windowId;
    if ((w - 1) % this.appWindow === 0) this.op.beginWindow(w);
  }

  /** Ends the current window and begins the next. */
  end(): void {
    if (this.ctx.windowId % this.appWindow === 0) void this.op.endWindow();
    this.begin();
  }
}

function stage(op: Operator<any, any>, appWindow: number, chunking: Chunking): Transform {
  const d = new Driven(op, appWindow);
  let out: unknown[] = [];
  const t = new Transform({
    objectMode: true,
    transform(chunk: unknown, _encoding, callback) {
      if (chunk === WINDOW_END) {
        d.end();
        if (out.length > 0) this.push(out);
        out = [];
        this.push(WINDOW_END);
      } else if (chunking === 'object') d.handler(chunk);
      else for (const tuple of chunk as unknown[]) d.handler(tuple);
      callback();
    },
  });
  d.connect(
    'out',
    chunking === 'object'
      ? (tuple) => t.push(tuple)
      : (tuple) => {
          out.push(tuple);
          if (out.length === BATCH) {
            t.push(out);
            out = [];
          }
        },
  );
  return t;
}

function sink(op: Average, appWindow: number, into: RecordChecksum): Writable {
  const d = new Driven(op, appWindow);
  d.connect('out', (r) => into.addRecord(r as AverageRecord));
  d.connect('alerts', (a) => into.addAlert(a as Alert));
  return new Writable({
    objectMode: true,
    write(chunk: unknown, _encoding, callback) {
      if (chunk === WINDOW_END) d.end();
      else if (Array.isArray(chunk)) for (const tuple of chunk) d.handler(tuple);
      else d.handler(chunk);
      callback();
    },
  });
}
