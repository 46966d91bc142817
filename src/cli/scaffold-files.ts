/**
 * The files `sluice new NAME` writes: an application (a source that keeps what it owes in state, a keyed
 * and partitioned operator, an exactly-once file sink), a vitest test that runs it under faults with
 * sluice/testkit, and the package.json and tsconfig.json to build and test it. Kept as strings here so
 * they ship in the package's dist/ with the command.
 */

export interface ScaffoldOptions {
  /** The application's name: the directory, the package name and the application name. */
  name: string;
  /** The dependency on sluice in package.json (`^0.1.0`, `file:../sluice-0.1.0.tgz`…). */
  sluice: string;
  /** Versions of the tools the test and typecheck use (sluice's own, so they are known to work). */
  devDependencies: Record<string, string>;
}

export function scaffoldFiles(o: ScaffoldOptions): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(packageJson(o), null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    'src/app.ts': appTs(o.name),
    'test/app.test.ts': testTs,
    '.gitignore': 'node_modules/\n.sluice/\nout/\n',
    'README.md': readme(o.name),
  };
}

function packageJson(o: ScaffoldOptions) {
  return {
    name: o.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      start: 'sluice run src/app.ts',
      plan: 'sluice plan src/app.ts',
      chaos: 'sluice chaos src/app.ts --runs 50 --key customer',
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
    },
    dependencies: { sluice: o.sluice },
    devDependencies: o.devDependencies,
    // cbor-x's native extension: 2.2.3 has no prebuilt binary on the registry, 2.2.2 has (see sluice's README).
    overrides: { 'cbor-extract': '2.2.2' },
  };
}

const tsconfig = {
  compilerOptions: {
    target: 'ES2023',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noImplicitOverride: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    types: ['node'],
  },
  include: ['src', 'test'],
};

const appTs = (name: string) => `/**
 * ${name}: orders in, a running total per customer out, one file per window, exactly once.
 *
 *   npm start             runs it (Ctrl-C, or kill -9, and npm start again: it goes on where it was)
 *   npm test              runs it under faults and compares with a fault-free run
 */
import { application, InputOperator, Operator } from 'sluice';
import { FileSink } from 'sluice/actors';

export type Order = { customer: number; amount: number };
export type Total = { customer: number; total: number };

/**
 * The source: \`perWindow\` orders a window. What it still owes when a window closes is state, so it
 * goes out in the next window, and a restore re-emits the same sequence. (A real source would keep its
 * read position, e.g. a file offset or a queue's sequence number, in this.state the same way.)
 */
export class Orders extends InputOperator<{ seq: number; owed: number }, { perWindow: number }> {
  readonly out = this.output<Order>();
  override initialState() {
    return { seq: 0, owed: 0 };
  }
  override beginWindow() {
    this.state.owed += this.props.perWindow;
  }
  // Called again and again inside a window: emit a bounded batch and return.
  emitTuples() {
    for (let n = 0; n < 256 && this.state.owed > 0; n++, this.state.owed--) {
      const seq = this.state.seq++;
      this.out.emit({ customer: seq % 7, amount: (seq * 37) % 100 });
    }
  }
}

/** A running total per customer. Keyed: every order of a customer reaches the same partition. */
export class Totals extends Operator<{ totals: Record<string, number> }> {
  readonly out = this.output<Total>();
  readonly in = this.input<Order>((order) => {
    const total = (this.state.totals[order.customer] ?? 0) + order.amount;
    this.state.totals[order.customer] = total;
    this.out.emit({ customer: order.customer, total });
  });
  override initialState() {
    return { totals: {} };
  }
}

/** The application, writing its window files into \`outDir\`. */
export function app(outDir: string) {
  return application(
    '${name}',
    (dag) => {
      const orders = dag.add('orders', Orders, { perWindow: 20 });
      const totals = dag.add('totals', Totals, undefined, { partitions: 2 });
      const files = dag.add('files', FileSink<Total>, { dir: outDir });
      dag.stream('orders', orders.out, totals.in).keyBy((o) => o.customer);
      dag.stream('totals', totals.out, files.in);
    },
    { streamingWindowMs: 500, checkpointWindowCount: 4 },
  );
}

export default app(process.env.OUT_DIR ?? 'out');
`;

const testTs = `import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaos, describeVerdict, firstDifference, runWithFaults } from 'sluice/testkit';
import { afterAll, expect, test } from 'vitest';
import { app, type Total } from '../src/app.ts';

// Runs on virtual time (no sleeping); the file sink writes into a temporary directory.
const out = mkdtempSync(join(tmpdir(), 'sluice-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('an operator failure and a kill -9 change nothing in the output', async () => {
  const expected = await runWithFaults(app(out), { windows: 10 });
  const actual = await runWithFaults(app(out), {
    windows: 10,
    faults: [
      { kind: 'throw', actor: 'totals#1', window: 4, call: 'tuple', tuple: 3 },
      { kind: 'relaunch', window: 7 },
    ],
  });
  expect(actual.faultsFired).toHaveLength(2);
  expect(firstDifference(expected.outputs, actual.outputs)).toBeUndefined();
});

test('random fault schedules change nothing in the output', { timeout: 120_000 }, async () => {
  // Print the seed on failure: chaos(app, { seed }) replays the same schedules.
  const verdict = await chaos(app(out), { runs: 25, keyOf: (t: Total) => t.customer });
  expect(verdict.ok, describeVerdict(verdict)).toBe(true);
});
`;

const readme = (name: string) => `# ${name}

A sluice application: \`src/app.ts\` (orders in, a running total
per customer out, one file per window in \`out/\`, exactly once).

\`\`\`sh
npm install
npm test          # the application under operator failures, kills and relaunches, and random fault schedules
npm start         # runs it; stop it any way you like and start it again: it continues from its last commit
npm run plan      # its physical plan
npm run chaos     # the fault-injection check from the command line
\`\`\`
`;
