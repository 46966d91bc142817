/**
 * The test kit on containers. A run on worker threads cannot take the in-thread instrument (a function
 * does not cross threads), so each worker loads the application through container-app.ts, which wraps the
 * operator classes of the logical DAG itself; what the wrapped classes need to share with the main thread
 * and with each other goes through one scratch directory:
 *
 *   <dir>/config          the application module, the fault schedule, where each actor is placed
 *   <dir>/fired-<i>       fault i of the schedule has fired (created exclusively: once, whichever
 *                         worker, replacement or relaunch gets there first)
 *   <dir>/out-<sink>      what sink actor <sink> applied, window by window (length-prefixed v8 frames,
 *                         appended synchronously, so a worker killed a moment later loses nothing)
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Application } from '../api/application.ts';
import type { LogicalDag, LogicalOperator } from '../dag/logical-dag.ts';
import { type Fault, InjectedFault } from './faults.ts';
import { wrapOperatorClass } from './instrument.ts';
import type { OutputRecorder } from './output-recorder.ts';

export interface CrossThreadConfig {
  /** The application module (file URL) whose default export is the application under test. */
  readonly app: string;
  readonly faults: readonly Fault[];
  /** Actor id → its container (assignContainers), for container hangs. */
  readonly containerOf: Readonly<Record<string, number>>;
  /** Record what the sinks apply (the test kit's oracle); false for `sluice run`'s drills. Default true. */
  readonly record?: boolean;
}

/** The module URL a container loads for a run configured in `dir` (container-app.ts, or .js in a build). */
export function containerAppModule(dir: string): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./container-app${ext}?dir=${encodeURIComponent(dir)}`, import.meta.url);
}

export function writeConfig(dir: string, config: CrossThreadConfig): void {
  writeFileSync(join(dir, 'config'), JSON.stringify(config));
}

export function readConfig(dir: string): CrossThreadConfig {
  return JSON.parse(readFileSync(join(dir, 'config'), 'utf8')) as CrossThreadConfig;
}

/** Claims fault `i`: true for the one caller that creates its marker, false for every later one. */
function claim(dir: string, i: number): boolean {
  try {
    writeFileSync(join(dir, `fired-${i}`), '', { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** The faults of the schedule that fired (read from their markers). */
export function firedFaults(dir: string, faults: readonly Fault[]): Fault[] {
  const markers = new Set(readdirSync(dir).filter((f) => f.startsWith('fired-')));
  return faults.filter((_, i) => markers.has(`fired-${i}`));
}

/**
 * The fault checks of wrapped classes in a worker: operator throws (as FaultInjector.check does) and
 * container hangs — the first actor of the container to begin window W or later blocks its thread for good,
 * as an endless loop would (without burning a core: Atomics.wait), so the container sends no heartbeat.
 */
export class LedgerFaults {
  constructor(
    private readonly dir: string,
    private readonly config: CrossThreadConfig,
  ) {}

  check(actor: string, window: number, call: string, tuple = 0): void {
    this.config.faults.forEach((f, i) => {
      if (f.kind === 'container-hang' && call === 'beginWindow') {
        if (this.config.containerOf[actor] !== f.container || window < f.window || !claim(this.dir, i))
          return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
      if (
        f.kind !== 'throw' ||
        f.actor !== actor ||
        f.window !== window ||
        f.call !== call ||
        (call === 'tuple' && (f.tuple ?? 1) !== tuple)
      )
        return;
      if (claim(this.dir, i)) throw new InjectedFault(f);
    });
  }
}

/** Appends what each sink applies to its own file, synchronously. */
export class FileRecorder {
  constructor(private readonly dir: string) {}

  apply(sink: string, window: number, tuples: unknown[]): void {
    const body = serialize({ window, tuples });
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32LE(body.length, 0);
    body.copy(frame, 4);
    appendFileSync(join(this.dir, `out-${encodeURIComponent(sink)}`), frame);
  }
}

/** Replays the recorded windows, in the order each sink applied them, into `recorder`. */
export function readRecordings(dir: string, recorder: OutputRecorder): void {
  for (const file of readdirSync(dir).filter((f) => f.startsWith('out-'))) {
    const sink = decodeURIComponent(file.slice('out-'.length));
    const bytes = readFileSync(join(dir, file));
    for (let at = 0; at + 4 <= bytes.length; ) {
      const length = bytes.readUInt32LE(at);
      if (at + 4 + length > bytes.length) break; // cut short by a kill: that window was not applied
      const { window, tuples } = deserialize(bytes.subarray(at + 4, at + 4 + length)) as {
        window: number;
        tuples: unknown[];
      };
      recorder.apply(sink, window, tuples);
      at += 4 + length;
    }
  }
}

/**
 * The application with its operator classes (and custom unifiers) wrapped to check the faults, and its
 * sinks (no outgoing stream) to record what they apply. Default unifiers are not wrapped: a schedule for
 * containers names operator actors only.
 */
export function instrumentApplication(
  app: Application,
  faults: LedgerFaults,
  recorder: FileRecorder | undefined,
): Application {
  return {
    name: app.name,
    attributes: app.attributes,
    dag(): LogicalDag {
      const dag = app.dag();
      const writers = new Set(dag.streams.map((s) => s.from.operator));
      const operators = new Map<string, LogicalOperator>();
      for (const [name, op] of dag.operators) {
        const sink = !op.isInput && !writers.has(name);
        const unifier = op.attrs.unifier;
        operators.set(name, {
          ...op,
          cls: wrapOperatorClass(op.cls, undefined, faults, sink && recorder ? recorder : undefined),
          attrs: unifier ? { ...op.attrs, unifier: wrapOperatorClass(unifier, undefined, faults) } : op.attrs,
        });
      }
      return { ...dag, operators };
    },
  };
}
