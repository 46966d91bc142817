#!/usr/bin/env node
/**
 * The `sluice` command. Registers tsx (so `.ts` runs as is) and the hooks that let an application
 * module anywhere on disk import 'sluice', 'sluice/actors' and 'sluice/testkit' from this package,
 * then hands over to src/cli/main.ts.
 */
import { register as registerHooks } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered after tsx, so these hooks run first and can hand their answers to tsx's.
registerHooks('./sluice-resolve-hooks.mjs', import.meta.url);

const { main } = await import('./main.ts');
const code = await main(process.argv);
process.exitCode = code;
// The command is done: should an application leave a handle open (a socket its operator never closed),
// exit anyway once the output has had a moment to drain. Unref'd: a clean process exits before this.
setTimeout(() => process.exit(code), 2000).unref();
