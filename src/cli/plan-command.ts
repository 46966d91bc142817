/** `sluice plan APP`: prints the physical plan of an application without running it. */

import { checkContainerCount } from '../container/launch-containers.ts';
import type { LogicalDag } from '../dag/logical-dag.ts';
import { assignContainers, planPhysical } from '../index.ts';
import { EXIT_OK } from './errors.ts';
import { buildDag, loadApp } from './load-app.ts';
import { planJson, planText } from './plan-format.ts';

export interface PlanCommandOptions {
  json: boolean;
  /** Place the actors on this many containers and show where each runs and how each channel moves. */
  containers?: number;
  cwd?: string;
  /** Where the plan goes (default process.stdout). */
  out?: NodeJS.WritableStream;
}

export async function planCommand(appPath: string, options: PlanCommandOptions): Promise<number> {
  const app = await loadApp(appPath, options.cwd);
  const dag = buildDag(app, appPath);
  // 0 is `sluice run --containers 0`: every actor in this thread, the plan without containers.
  const containers = options.containers === 0 ? undefined : options.containers;
  const unplaced = planPhysical(dag);
  if (containers !== undefined) checkContainerCount(unplaced, containers);
  const plan = containers === undefined ? unplaced : assignContainers(unplaced, containers);
  // Placed on containers, a 'node' stream is shown as it would cross: the note is about the unplaced plan.
  const notes = containers === undefined ? localityNotes(dag) : [];
  const noteLines = notes.map((n) => `note: ${n}\n`).join('');
  (options.out ?? process.stdout).write(
    options.json
      ? planJson(plan, notes)
      : `${planText(plan, containers)}${noteLines ? `\n${noteLines}` : ''}`,
  );
  return EXIT_OK;
}

/**
 * `node` locality allows another worker thread or process; a plan on no containers (`sluice plan`
 * without `--containers`, a run in this thread) has such a stream as `container` (a queued channel).
 * Said here, not left silent.
 */
export function localityNotes(dag: LogicalDag): string[] {
  const node = dag.streams.filter((s) => s.locality === 'node').map((s) => `"${s.name}"`);
  if (node.length === 0) return [];
  const streams = `${node.length === 1 ? 'stream' : 'streams'} ${node.join(', ')}`;
  return [
    `${streams}: locality 'node' is planned as 'container' (a queued channel) in one thread; on containers it may cross between worker threads, where the placement allows (see sluice plan --containers N)`,
  ];
}
