/**
 * Module hooks for the `sluice` command (registered by src/cli/bin.js with `module.register`).
 *
 * 1. An application module anywhere on disk (say /tmp/app.ts, with no package.json and no node_modules)
 *    imports 'sluice', 'sluice/actors' or 'sluice/testkit': those specifiers resolve to this package's
 *    own entry files, as listed in its package.json "exports", so the application and the command share
 *    one instance of every module (an operator class from the app passes the engine's `instanceof`):
 *    the TypeScript sources (the "sluice-source" condition) in the repository, where src/cli/main.ts sits
 *    next to this file as src/cli/bin.js expects; the compiled dist/ files (the "import" condition) in an
 *    installed package, which ships no sources.
 * 2. A `.ts` or `.js` file with no "type" in its package.json (or no package.json at all) counts as
 *    CommonJS for Node and tsx, which cannot load an application written with `import`/`export default`.
 *    Such a file is loaded as an ES module when its source has ESM syntax, as Node 22 does for `.js`.
 *
 * Plain JavaScript: these hooks run on Node's loader thread, before tsx can compile anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));

const condition = existsSync(new URL('./main.ts', import.meta.url)) ? 'sluice-source' : 'import';

/** 'sluice' → file:///…/src/index.ts (or …/dist/src/index.js), 'sluice/actors' → file:///…/actors/index.ts, … */
const entries = new Map(
  Object.entries(manifest.exports ?? {})
    .map(([subpath, target]) => [subpath, typeof target === 'string' ? target : target?.[condition]])
    .filter(([subpath, target]) => typeof target === 'string' && !subpath.endsWith('.json'))
    .map(([subpath, target]) => [
      subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
      pathToFileURL(join(packageRoot, target)).href,
    ]),
);

/** Node ≥ 22.18 (type stripping) reports `.ts` files as 'commonjs-typescript'; Node 20 as 'commonjs'. */
const AS_ESM = new Map([
  ['commonjs', 'module'],
  ['commonjs-typescript', 'module-typescript'],
]);
const DETECTABLE = new Set(['.ts', '.tsx', '.js', '.jsx']);
const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;
const typeByDirectory = new Map();

export async function resolve(specifier, context, nextResolve) {
  const entry = entries.get(specifier);
  // Resolved by the next hook (tsx), which knows that a `.ts` file of this package is an ES module.
  if (entry !== undefined) return nextResolve(entry, context);
  const resolved = await nextResolve(specifier, context);
  const esmFormat = AS_ESM.get(resolved.format);
  if (esmFormat !== undefined && looksLikeUntypedEsm(resolved.url)) return { ...resolved, format: esmFormat };
  return resolved;
}

function looksLikeUntypedEsm(url) {
  if (!url.startsWith('file:')) return false;
  const path = fileURLToPath(url);
  if (!DETECTABLE.has(extname(path)) || path.includes('/node_modules/')) return false;
  if (packageType(dirname(path)) !== undefined) return false;
  try {
    return ESM_SYNTAX.test(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
}

/** The "type" of the nearest package.json above `dir`, or undefined when it has none (or there is none). */
function packageType(dir) {
  if (typeByDirectory.has(dir)) return typeByDirectory.get(dir);
  let type;
  const file = join(dir, 'package.json');
  if (existsSync(file)) {
    try {
      type = JSON.parse(readFileSync(file, 'utf8')).type;
    } catch {
      type = undefined;
    }
  } else if (dirname(dir) !== dir) {
    type = packageType(dirname(dir));
  }
  typeByDirectory.set(dir, type);
  return type;
}
