/**
 * Cluster stream: tuples/s of one stream between two nodes on loopback — a supervisor and two node
 * processes, the producer's container on one, the consumer's on the other, every batch crossing the
 * full data plane (worker → MessagePort → node → authenticated WebSocket → node → MessagePort → worker,
 * credits back the same way) — next to the same batches (1024 integers, cbor-x) over a bare `ws`
 * connection in one process (cluster-link-run.ts raw numbers), in one run. Medians of interleaved rounds
 * with their range; the cluster's rate is counted from the consumer's tuples over the time from the
 * launch's start to its end (worker start-up excluded). Virtual time cuts windows by the source's calls,
 * so the clock never limits the source.
 *
 *   node --import tsx bench/cluster-stream.ts [--quick]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ClusterClient } from '../src/cluster-run/cluster-client.ts';
import {
  cleanUp,
  median,
  runAsScript,
  type SluiceProc,
  startNode,
  startSupervisor,
} from './cluster-processes.ts';
import type { BenchOptions, Section, SectionReport } from './section.ts';

const run = promisify(execFile);
const LINK_RUNNER = fileURLToPath(new URL('./cluster-link-run.ts', import.meta.url));
const APP = fileURLToPath(new URL('./locality-app.ts', import.meta.url));

async function raw(batches: number): Promise<number> {
  const { stdout } = await run(process.execPath, [
    '--import',
    'tsx',
    LINK_RUNNER,
    'raw',
    String(batches),
    'numbers',
  ]);
  const { ms, tuples } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number; tuples: number };
  return tuples / (ms / 1000);
}

/** One cluster run: supervisor + 2 nodes, the locality app's stream across them. */
async function cluster(windows: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-cluster-'));
  const env = { LOCALITY_STREAM: 'any', LOCALITY_COUNT: join(dir, 'count') };
  const procs: SluiceProc[] = [];
  try {
    const { proc: sup, url } = await startSupervisor(join(dir, 'store'), env);
    procs.push(sup);
    for (const id of ['a', 'b']) procs.push(startNode(url, id, 1, env));
    await Promise.all(procs.map((p) => p.up));
    const client = await ClusterClient.connect(url);
    // Virtual time: windows are cut by the source's calls (64 × 1024 integers), not by the clock, so the
    // source is never the limit: the stream runs as fast as the data plane carries it.
    await client.launch(APP, { windows, virtualTime: true, containers: 2 });
    const t0 = performance.now();
    const ended = await client.wait('locality');
    const ms = performance.now() - t0;
    client.close();
    if (ended.state !== 'done') throw new Error(`cluster stream run ended ${ended.state}: ${ended.error}`);
    let tuples = 0;
    for (const f of await readdir(dir)) {
      if (f.startsWith('count.'))
        tuples += (JSON.parse(await readFile(join(dir, f), 'utf8')) as { n: number }).n;
    }
    return tuples / (ms / 1000);
  } finally {
    await cleanUp(procs, dir, false, []);
  }
}

const mps = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;

export const clusterStreamSection: Section = {
  title: 'cluster stream: a stream between two nodes next to bare ws + cbor-x',
  async run(o: BenchOptions): Promise<SectionReport> {
    // Long enough that the JIT and the first windows do not dominate (at 150 windows, ~0.5 s, the
    // cluster measured 5 M/s; at 1500, 14 M/s); the baseline carries as many tuples.
    const windows = o.quick ? 300 : 1500;
    const batches = windows * 64;
    const rounds = Math.max(o.runs, 3);
    const rates = { raw: [] as number[], cluster: [] as number[] };
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      o.progress(`cluster stream: round ${r + 1} of ${rounds}`);
      const first = r % 2 === 0;
      const a = first ? await raw(batches) : await cluster(windows);
      const b = first ? await cluster(windows) : await raw(batches);
      const [rw, cl] = first ? [a, b] : [b, a];
      rates.raw.push(rw);
      rates.cluster.push(cl);
      ratios.push(cl / rw);
    }
    const range = (xs: number[], f: (x: number) => string) => `[${f(Math.min(...xs))}–${f(Math.max(...xs))}]`;
    const ratio = median(ratios);
    return {
      lines: [
        `  batches of 1024 integers; cluster: ${windows} windows of 65,536 on virtual time, supervisor + 2 node processes on 127.0.0.1; medians of ${rounds} interleaved rounds; [min–max]`,
        `  bare ws + cbor-x (one process)   ${mps(median(rates.raw)).padStart(10)} ${range(rates.raw, mps)}`,
        `  stream between two nodes         ${mps(median(rates.cluster)).padStart(10)} ${range(rates.cluster, mps)}`,
        `  nodes / bare (per-round ratios)  ${ratio.toFixed(3)} ${range(ratios, (x) => x.toFixed(2))}   target ≥ 0.70: ${ratio >= 0.7 ? 'met' : 'MISSED'}`,
      ],
      figures: {
        clusterStreamRawTuplesPerSec: Math.round(median(rates.raw)),
        clusterStreamTuplesPerSec: Math.round(median(rates.cluster)),
        clusterStreamRatio: Math.round(ratio * 1000) / 1000,
      },
    };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await runAsScript(clusterStreamSection);
