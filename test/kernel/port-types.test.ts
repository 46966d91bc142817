import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const proof = fileURLToPath(new URL('./port-types.typecheck.ts', import.meta.url));
const EXPECT_ERROR = '// @ts-expect-error';
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

interface Diagnostic {
  line: number;
  code: string;
  message: string;
}

/**
 * Type-checks `source` (a copy of the proof, its relative imports made absolute) on its own, with the
 * project's compiler options, in a temporary directory outside the project.
 */
async function typecheck(dir: string, name: string, source: string): Promise<Diagnostic[]> {
  const file = join(dir, `${name}.ts`);
  await writeFile(file, source.replaceAll("'../../src/", `'${join(root, 'src')}/`));
  const config = join(dir, `${name}.tsconfig.json`);
  await writeFile(
    config,
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { typeRoots: [join(root, 'node_modules', '@types')] },
      include: [],
      files: [file],
    }),
  );
  const result = await promisify(execFile)(
    process.execPath,
    [tsc, '--noEmit', '--pretty', 'false', '-p', config],
    {
      cwd: dir,
    },
  ).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? String(e),
  );
  const diagnostics: Diagnostic[] = [];
  for (const m of result.matchAll(/\((\d+),\d+\): error (TS\d+): (.*(?:\n {2,}.*)*)/g)) {
    diagnostics.push({ line: Number(m[1]), code: m[2]!, message: m[3]! });
  }
  if (diagnostics.length === 0 && result.trim() !== '') throw new Error(`unexpected tsc output:\n${result}`);
  return diagnostics;
}

/** 1-based line numbers of the lines that contain `text`. */
function linesWith(source: string, text: string): number[] {
  return source.split('\n').flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
}

describe('port types are checked by the compiler', () => {
  let dir: string;
  let original: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-port-types-'));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    original = await readFile(proof, 'utf8');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('compiles the proof as written: the positive cases type-check and every @ts-expect-error is used', async () => {
    expect(linesWith(original, EXPECT_ERROR)).toHaveLength(2);
    expect(await typecheck(dir, 'as-written', original)).toEqual([]);
  }, 20_000);

  it('reports an error on each mismatched dag.stream line once the @ts-expect-error lines are removed', async () => {
    const stripped = original
      .split('\n')
      .filter((l) => !l.includes(EXPECT_ERROR))
      .join('\n');
    const diagnostics = await typecheck(dir, 'stripped', stripped);
    const mismatch = linesWith(stripped, "dag.stream('mismatch'");
    const narrowing = linesWith(stripped, "dag.stream('narrowing'");
    expect(mismatch).toHaveLength(1);
    expect(narrowing).toHaveLength(1);
    expect(diagnostics.map((d) => d.line).sort((a, b) => a - b)).toEqual([mismatch[0], narrowing[0]]);
    const onMismatch = diagnostics.find((d) => d.line === mismatch[0])!;
    expect(onMismatch.message).toContain('number');
    expect(onMismatch.message).toContain('string');
  }, 20_000);
});
