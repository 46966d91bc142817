import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(ts|mts|js|mjs|cjs|json)$/;

/**
 * The build of an application as one node sees it on its own disk: a hash of the module file and the
 * source files beside it (the helpers it imports by relative path usually live there). Application code
 * is never sent; nodes whose hash differs from the launcher's would compute something else, and are not
 * given the application's containers.
 */
export function appBuildHash(module: string): string {
  const file = module.startsWith('file:') ? fileURLToPath(module) : module;
  const dir = dirname(file);
  const hash = createHash('sha256');
  const names = readdirSync(dir)
    .filter((n) => SOURCE.test(n) && statSync(join(dir, n)).isFile())
    .sort();
  for (const name of names) {
    hash.update(`${name}\0`);
    hash.update(readFileSync(join(dir, name)));
    hash.update('\0');
  }
  return `sha256:${hash.digest('hex').slice(0, 32)}`;
}

/** The sluice runtime's build, which a node reports when it joins (the supervisor must run the same). */
export function runtimeBuild(): string {
  const require = createRequire(import.meta.url);
  const { version } = require('sluice/package.json') as { version: string };
  return `sluice@${version}/cluster-1`;
}
