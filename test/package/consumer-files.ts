/**
 * The files of the projects that depend on the packed sluice in test/package/consumer.test.ts, written
 * as a user would, following the README's "Using sluice in your project". Strings, not files of the
 * repository: the repository's own typecheck must not see them (bad.ts is meant to fail), and they must
 * resolve 'sluice' through node_modules as a user's code does.
 */

/** A plain Node ESM script: no loader, no TypeScript. Prints the windows its exactly-once sink applied. */
export const appMjs = `import { application, launch, MemorySnapshotStore } from 'sluice';
import { Collected, CollectSink, MapOperator, SequenceSource } from 'sluice/actors';

const into = new Collected();
const app = application('esm-consumer', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 3 });
  const doubled = dag.add('doubled', MapOperator, { fn: (n) => n * 2 });
  const sink = dag.add('sink', CollectSink, { into });
  dag.stream('numbers', numbers.out, doubled.in);
  dag.stream('doubled', doubled.out, sink.in);
});
const run = await launch(app, { store: new MemorySnapshotStore(), windows: 3, virtualTime: true });
await run.done;
console.log(JSON.stringify([...into.windows]));
`;

/**
 * A CommonJS script (a project without "type": "module"). sluice is ESM only: require() of it works on
 * require of ES modules (Node 20.20, the engines floor), import() too; both give one instance.
 */
export const indexCjs = `const { application, launch, MemorySnapshotStore } = require('sluice');
const { Collected, CollectSink, SequenceSource } = require('sluice/actors');

async function main() {
  const imported = await import('sluice');
  if (imported.launch !== launch) throw new Error('require() and import() gave two instances of sluice');
  const into = new Collected();
  const app = application('cjs-consumer', (dag) => {
    const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 2 });
    const sink = dag.add('sink', CollectSink, { into });
    dag.stream('numbers', numbers.out, sink.in);
  });
  const run = await launch(app, { store: new MemorySnapshotStore(), windows: 2, virtualTime: true });
  await run.done;
  console.log(JSON.stringify([...into.windows]));
}
main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
`;

/** The strict settings a TypeScript user may well have (noImplicitOverride off, libraries checked). */
export const tsconfigJson = JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noImplicitOverride: false,
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
    },
    include: ['app.ts'],
  },
  null,
  2,
);

/** The same settings on bad.ts alone. */
export const tsconfigBadJson = JSON.stringify({ extends: './tsconfig.json', include: ['bad.ts'] }, null, 2);

/**
 * An application that uses every public entry point: run by `npx sluice run app.ts`, its verify()
 * typechecked only (it would take a while to run).
 */
export const appTs = `import { application, MemorySnapshotStore, Operator, launch } from 'sluice';
import { ConsoleSink, SequenceSource } from 'sluice/actors';
import { type ChaosOptions, chaos, describeVerdict } from 'sluice/testkit';

interface Doubled {
  n: number;
  doubled: number;
}

class Double extends Operator {
  readonly in = this.input<number>((n) => this.out.emit({ n, doubled: n * 2 }));
  readonly out = this.output<Doubled>();
}

const app = application(
  'ts-consumer',
  (dag) => {
    const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 2 });
    const double = dag.add('double', Double);
    const print = dag.add('print', ConsoleSink<Doubled>, { prefix: 'ts-consumer ' });
    dag.stream('numbers', numbers.out, double.in);
    dag.stream('doubled', double.out, print.in);
  },
  { streamingWindowMs: 50 },
);
export default app;

export async function verify(options: ChaosOptions = { runs: 5, windows: 6 }): Promise<string> {
  const run = await launch(app, { store: new MemorySnapshotStore(), windows: 3, virtualTime: true });
  await run.done;
  return describeVerdict(await chaos(app, options));
}
`;

/** A stream from an output of numbers to an input of strings: tsc must refuse it (line 7). */
export const badTs = `import { application } from 'sluice';
import { ConsoleSink, SequenceSource } from 'sluice/actors';

export default application('mismatched', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 2 });
  const print = dag.add('print', ConsoleSink<string>, { prefix: '' });
  dag.stream('numbers', numbers.out, print.in);
});
`;

/** The same application as plain JavaScript, for `npx sluice run app.js`: no loader, no build step. */
export const appJs = `import { application } from 'sluice';
import { ConsoleSink, MapOperator, SequenceSource } from 'sluice/actors';

export default application(
  'js-consumer',
  (dag) => {
    const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 2 });
    const doubled = dag.add('doubled', MapOperator, { fn: (n) => n * 2 });
    const print = dag.add('print', ConsoleSink, { prefix: 'js-consumer ' });
    dag.stream('numbers', numbers.out, doubled.in);
    dag.stream('doubled', doubled.out, print.in);
  },
  { streamingWindowMs: 50 },
);
`;
