#!/usr/bin/env node
/**
 * The `sluice` command. Registers tsx (so a user's `.ts` application loads without a build step) and
 * the hooks that let an application module anywhere on disk import 'sluice', 'sluice/actors' and
 * 'sluice/testkit' from this package, then hands over to the command's main module: in the repository
 * src/cli/main.ts itself (no build step), in an installed package, which ships this file, the hooks and
 * dist/ but no sources, the compiled dist/src/cli/main.js.
 */
import { existsSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

// A reader that goes away (`sluice help run | head -1`) ends the command quietly, as it would a Unix
// tool, instead of a stack trace of the unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
}

registerTsx();
// Registered after tsx, so these hooks run first and can hand their answers to tsx's.
registerHooks('./sluice-resolve-hooks.mjs', import.meta.url);

const fromSource = existsSync(new URL('./main.ts', import.meta.url));
const { main } = await import(fromSource ? './main.ts' : '../../dist/src/cli/main.js');
const code = await main(process.argv);
process.exitCode = code;
// The command is done: should an application leave a handle open (a socket its operator never closed),
// exit anyway once the output has had a moment to drain. Unref'd: a clean process exits before this.
setTimeout(() => process.exit(code), 2000).unref();
