import { availableParallelism } from 'node:os';
import type { Application } from '../api/application.ts';
import type { LaunchOptions } from '../engine/launch-options.ts';
import { assignContainers, containerOf } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { planPhysical } from '../plan/planner.ts';

/**
 * How many containers a launch without `containers` uses: the machine's cores, capped by how many the
 * plan's placement fills (an application that cannot be split — one thread-local chain — gains nothing
 * from a worker and pays its start). 0 means this thread: one core (or a plan that fills one container),
 * no `module` to load in workers, or an option that only one thread honours (`instrument`,
 * `virtualTime.cutAt`: functions cannot cross threads; `replayFrom: 'buffers'`).
 */
export function defaultContainers(
  app: Application | PhysicalPlan,
  options: LaunchOptions,
  cores: number = availableParallelism(),
): number {
  if (options.module === undefined || options.instrument !== undefined) return 0;
  if (options.replayFrom === 'buffers') return 0;
  if (typeof options.virtualTime === 'object' && options.virtualTime.cutAt !== undefined) return 0;
  return spreadOver('actors' in app ? app : planPhysical(app.dag()), cores);
}

/** Of `cores` containers, how many the placement of `plan` gives actors; 0 when fewer than 2. */
export function spreadOver(plan: PhysicalPlan, cores: number): number {
  if (cores < 2) return 0;
  const used = new Set(assignContainers(plan, cores).actors.map(containerOf)).size;
  return used < 2 ? 0 : used;
}
