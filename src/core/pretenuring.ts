import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring for the process (every isolate: the main thread's and the
 * container workers', which read the flag at each scavenge), unless the command line or NODE_OPTIONS
 * names the flag (`node --allocation-site-pretenuring …` keeps V8's default).
 *
 * Why: V8 counts, per object literal, how many of the objects its unoptimized code made survive a
 * scavenge; if 85 % of at least 100 do, it allocates everything that literal makes in the old generation
 * from then on, for the rest of the run. An operator that emits objects batches them: the last tuples
 * emitted are always alive (in the batch being filled, or a mailbox), so a scavenge that lands just after
 * a burst of unoptimized code (at start-up, after a deoptimization) finds nearly all of that burst alive,
 * and the site is tenured although its tuples die a millisecond later. The old generation then fills with
 * garbage that only mark-compacts free. The case study on 2 containers went slow that way in about half of
 * its runs (its reading literal tenured in the first window; 2026-12-05, bench/README "Pretenuring").
 *
 * What it costs: an object that does live long (a value kept in a large Map in operator state) is copied
 * by a scavenge before it reaches the old generation, where pretenuring would have put it at once.
 */
const NAMED = /^--(no-)?allocation[-_]site[-_]pretenuring$/;

let done = false;

/** Once per process, before the first worker starts (a worker's isolate reads the flags set by then). */
export function turnOffAllocationSitePretenuring(): void {
  if (done) return;
  done = true;
  if (namesPretenuring(process.execArgv, process.env.NODE_OPTIONS)) return;
  setFlagsFromString('--no-allocation-site-pretenuring');
}

/** Whether node's arguments or NODE_OPTIONS set the flag either way (the user's choice is kept). */
export function namesPretenuring(execArgv: readonly string[], nodeOptions = ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => NAMED.test(a));
}
