/**
 * `npm run bench [-- --json] [-- --quick] [-- --runs N] [-- --keys typed|map] [-- --in-process]
 * [-- --only TITLE] [-- --pin-cpu N]` (the sections whose title starts with TITLE, any case; one-thread runs
 * on CPU N only): prints
 * figures, never passes or fails on time. It exits non-zero only when a result is wrong (the variants
 * disagree on the checksum, a recovery changes the output).
 *
 * Each section is one file exporting a Section; add a new one to SECTIONS.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { afterRecoverySection } from './after-recovery.ts';
import { caseStudySection } from './case-study.ts';
import { KEY_ENCODINGS } from './case-study-workload.ts';
import { checkpointOverheadSection } from './checkpoint-overhead.ts';
import { pin } from './child-process.ts';
import { clusterLinkSection } from './cluster-link.ts';
import { clusterStreamSection } from './cluster-stream.ts';
import { containersPartitionsSection, containersVsHandLoopSection } from './containers.ts';
import { largeStateSection } from './large-state.ts';
import { localitySection } from './locality.ts';
import { mailboxHopSection } from './mailbox-hop.ts';
import { manyActorsSection } from './many-actors.ts';
import { metricsCostSection } from './metrics-cost.ts';
import { outputFencingSection } from './output-fencing.ts';
import { partitionsSection } from './partitions.ts';
import { recoveryTimeSection } from './recovery-time.ts';
import { redisWritesSection } from './redis-writes.ts';
import { replayBuffersSection } from './replay-buffers.ts';
import { replayBuffersCaseStudySection } from './replay-buffers-case-study.ts';
import type { BenchOptions, Section, SectionReport } from './section.ts';
import { slowSinkSection } from './slow-sink.ts';

const SECTIONS: readonly Section[] = [
  caseStudySection,
  mailboxHopSection,
  checkpointOverheadSection,
  replayBuffersSection,
  replayBuffersCaseStudySection,
  partitionsSection,
  recoveryTimeSection,
  afterRecoverySection,
  outputFencingSection,
  slowSinkSection,
  localitySection,
  containersPartitionsSection,
  containersVsHandLoopSection,
  clusterLinkSection,
  clusterStreamSection,
  largeStateSection,
  manyActorsSection,
  redisWritesSection,
  metricsCostSection,
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string', default: '3' },
      keys: { type: 'string', default: 'typed' },
      'in-process': { type: 'boolean', default: false },
      only: { type: 'string' },
      'pin-cpu': { type: 'string' },
    },
  });
  if (values['pin-cpu'] !== undefined) {
    const cpu = Number(values['pin-cpu']);
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= cpus().length)
      throw new Error(`--pin-cpu must be a CPU number 0–${cpus().length - 1} (got ${values['pin-cpu']})`);
    pin.cpu = cpu;
  }
  const keys = KEY_ENCODINGS.find((k) => k === values.keys);
  if (keys === undefined)
    throw new Error(`--keys must be one of ${KEY_ENCODINGS.join(', ')} (got ${values.keys})`);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be an integer ≥ 1 (got ${values.runs})`);
  const options: BenchOptions = {
    keys,
    isolate: !values['in-process'],
    quick: values.quick,
    runs,
    progress: (line) => process.stderr.write(`· ${line}\n`),
  };
  const environment = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    /** Other work on the machine skews every figure: compare runs at a low load only. */
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
    runsPerVariant: runs,
    keys,
    isolation: values['in-process']
      ? 'in-process: every run in this process, after a warm-up run'
      : 'one fresh process per throughput run (case study, mailbox hop, checkpoint overhead)',
    statistic: 'best of the measured runs',
    gcBetweenRuns: typeof (globalThis as { gc?: unknown }).gc === 'function',
    /** One-thread runs all on this CPU (`--pin-cpu`), or wherever the scheduler put each. */
    pinnedCpu: pin.cpu ?? 'none',
  };
  const figures: Record<string, number | string | boolean> = { ...environment };
  if (!values.json) {
    console.log(
      `sluice bench: node ${environment.node}, ${environment.platform}, ${environment.cpus} × ${environment.cpuModel}, load average ${environment.loadAverageAtStart}${pin.cpu === undefined ? '' : `, one-thread runs pinned to CPU ${pin.cpu}`}`,
    );
    const isolation = values['in-process']
      ? 'all in this process, after a warm-up run'
      : 'every throughput run in a fresh process';
    console.log(
      `best of ${runs} measured runs per variant (${isolation}); keys: ${keys}${values.quick ? ' (--quick: small workload)' : ''}`,
    );
  }
  const only = values.only;
  const sections =
    only === undefined
      ? SECTIONS
      : SECTIONS.filter((s) => s.title.toLowerCase().startsWith(only.toLowerCase()));
  if (sections.length === 0) throw new Error(`--only ${only}: no section title starts with it`);
  // A section that throws is marked (`failed: <title>` in the JSON) and the others still run and print:
  // one broken section never loses the rest. A wrong result (or a failure) makes the exit code 1.
  for (const section of sections) {
    let report: SectionReport;
    try {
      report = await section.run(options);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      process.exitCode = 1;
      report = { lines: [`  FAILED: ${message}`], figures: { [`failed: ${section.title}`]: message } };
    }
    if (report.wrong && report.wrong.length > 0) process.exitCode = 1;
    Object.assign(figures, report.figures);
    if (!values.json) {
      console.log(`\n${section.title}`);
      for (const line of report.lines) console.log(line);
    }
  }
  if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
