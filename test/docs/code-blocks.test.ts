import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type BlockError, type CodeBlock, readBlocks, tsBlocks, typecheckBlocks } from './code-blocks.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Every Markdown file a reader is sent to: the top level, docs/, the examples'. */
const docs = [
  ...readdirSync(repoRoot).filter((f) => f.endsWith('.md')),
  ...(existsSync(join(repoRoot, 'docs'))
    ? readdirSync(join(repoRoot, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`)
    : []),
  ...readdirSync(join(repoRoot, 'examples'))
    .map((e) => `examples/${e}/README.md`)
    .filter((f) => existsSync(join(repoRoot, f))),
];

// A block with a type error, checked in the same tsc run: the check itself must be able to fail, and
// say where.
const broken: CodeBlock = {
  doc: 'BROKEN.md',
  line: 40,
  code: "import { launch } from 'sluice';\n\nconst n: number = launch;",
};

describe('TypeScript blocks in the docs', () => {
  const blocks = readBlocks(repoRoot, docs);
  const checked = blocks.filter((b) => b.notChecked === undefined);
  const errors: BlockError[] = typecheckBlocks(repoRoot, join(repoRoot, '.docs-check'), [...checked, broken]);

  it('finds the blocks of README.md', () => {
    expect(checked.filter((b) => b.doc === 'README.md').length).toBeGreaterThanOrEqual(2);
  });

  it('typechecks every block with the repository settings, each as a module', () => {
    const found = errors.filter((e) => e.doc !== broken.doc).map((e) => `${e.doc}:${e.line}: ${e.message}`);
    expect(found).toEqual([]);
  });

  it('reports a type error at its Markdown line', () => {
    const found = errors.filter((e) => e.doc === broken.doc);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 42, message: expect.stringMatching(/^error TS2322: /) });
  });

  it('keeps exceptions rare: each has a reason', () => {
    const skipped = blocks.filter((b) => b.notChecked !== undefined);
    for (const b of skipped) expect(b.notChecked, `${b.doc}:${b.line}`).not.toBe('');
    expect(skipped.length).toBeLessThanOrEqual(2);
  });
});

describe('tsBlocks', () => {
  it('takes ts and typescript fences with the line of their first code line, and a not-checked marker', () => {
    const md = [
      '# t', //                                       1
      '```ts', //                                     2
      'const a = 1;', //                              3
      '```', //                                       4
      '```sh', //                                     5
      'npm ci', //                                    6
      '```', //                                       7
      '<!-- not-checked: a fragment -->', //          8
      '```typescript', //                             9
      'a + 1', //                                    10
      '```', //                                      11
    ].join('\n');
    expect(tsBlocks(md, 'x.md')).toEqual([
      { doc: 'x.md', line: 3, code: 'const a = 1;' },
      { doc: 'x.md', line: 10, code: 'a + 1', notChecked: 'a fragment' },
    ]);
  });
});
