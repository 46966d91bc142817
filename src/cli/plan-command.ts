/** `sluice plan APP`: prints the physical plan of an application without running it. */
import { planPhysical } from '../index.ts';
import { EXIT_OK } from './errors.ts';
import { loadApp } from './load-app.ts';
import { planJson, planText } from './plan-format.ts';

export interface PlanCommandOptions {
  json: boolean;
  cwd?: string;
  /** Where the plan goes (default process.stdout). */
  out?: NodeJS.WritableStream;
}

export async function planCommand(appPath: string, options: PlanCommandOptions): Promise<number> {
  const app = await loadApp(appPath, options.cwd);
  const plan = planPhysical(app.dag());
  (options.out ?? process.stdout).write(options.json ? planJson(plan) : planText(plan));
  return EXIT_OK;
}
