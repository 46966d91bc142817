/**
 * The TypeScript blocks of the repository's Markdown, typechecked as they are: each block is written as
 * a module into a folder inside the repository (so `sluice` resolves to the sources through the
 * `sluice-source` condition of tsconfig.json) and one `tsc --noEmit` checks them all. An error points at
 * the Markdown line. A block that cannot stand alone is marked `<!-- not-checked: why -->` on the line
 * before its fence.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

export interface CodeBlock {
  /** The Markdown file, relative to the repository. */
  doc: string;
  /** Line (1-based) of the block's first line of code in `doc`. */
  line: number;
  code: string;
  /** Why the block is not checked (its `not-checked` marker), if it is not. */
  notChecked?: string;
}

export interface BlockError {
  doc: string;
  /** The Markdown line the error is on. */
  line: number;
  message: string;
}

const FENCE = /^(\s*)(```+|~~~+)\s*([\w-]*)/;
const NOT_CHECKED = /^\s*<!--\s*not-checked:\s*(.*?)\s*-->\s*$/;

/** The ```ts / ```typescript blocks of a Markdown text. */
export function tsBlocks(markdown: string, doc: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim().startsWith(open[2]!));
    const close = end === -1 ? lines.length : end;
    if (open[3] === 'ts' || open[3] === 'typescript') {
      const marker = i > 0 ? NOT_CHECKED.exec(lines[i - 1]!) : null;
      blocks.push({
        doc,
        line: i + 2,
        code: lines.slice(i + 1, close).join('\n'),
        ...(marker ? { notChecked: marker[1]! } : {}),
      });
    }
    i = close;
  }
  return blocks;
}

/** The file a block is written to in `dir`. */
function fileOf(block: CodeBlock): string {
  return `${block.doc.replace(/[^\w]+/g, '-')}-${block.line}.ts`;
}

/**
 * Typechecks `blocks` in `dir` (created, then removed) with the repository's tsconfig.json; relative
 * imports in a block are relative to its Markdown file, as a reader of that file would take them.
 */
export function typecheckBlocks(repoRoot: string, dir: string, blocks: readonly CodeBlock[]): BlockError[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const byFile = new Map<string, CodeBlock>();
    for (const block of blocks) {
      const from = dirname(resolve(repoRoot, block.doc));
      const code = block.code.replace(
        /(\bfrom\s+|\bimport\s*\(?\s*)(['"])(\.\.?\/[^'"]+)\2/g,
        (_, lead: string, quote: string, spec: string) => {
          const rel = relative(dir, resolve(from, spec)).replaceAll('\\', '/');
          return `${lead}${quote}${rel.startsWith('.') ? rel : `./${rel}`}${quote}`;
        },
      );
      byFile.set(fileOf(block), block);
      // `export {}` keeps a block without imports a module (so its names do not collide with another's).
      writeFileSync(join(dir, fileOf(block)), `${code}\nexport {};\n`);
    }
    const config = { extends: relative(dir, join(repoRoot, 'tsconfig.json')), include: ['*.ts'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', dir], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const errors: BlockError[] = [];
    for (const l of r.stdout.split('\n')) {
      const m = /^(.+?)\((\d+),\d+\): (error .*)$/.exec(l);
      const block = m ? byFile.get(basename(m[1]!)) : undefined;
      if (m && block) errors.push({ doc: block.doc, line: block.line + Number(m[2]) - 1, message: m[3]! });
      else if (m || l.startsWith('error')) errors.push({ doc: '(tsc)', line: 0, message: l });
    }
    if (r.status !== 0 && errors.length === 0) {
      errors.push({ doc: '(tsc)', line: 0, message: `tsc exited ${r.status}: ${r.stdout}${r.stderr}` });
    }
    return errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readBlocks(repoRoot: string, docs: readonly string[]): CodeBlock[] {
  return docs.flatMap((doc) => tsBlocks(readFileSync(join(repoRoot, doc), 'utf8'), doc));
}
