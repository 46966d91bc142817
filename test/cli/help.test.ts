import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, sluice, startSluice } from './cli-process.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** README's command reference (in its Running section): from its heading to the next section. */
const start = readme.indexOf('\n### Command reference\n');
const reference = readme.slice(start, readme.indexOf('\n## ', start));

/** The flags a command's help lists (without --help). */
function flagsOf(help: string): string[] {
  const options = help.slice(help.indexOf('Options:'), help.indexOf('\n\n', help.indexOf('Options:')));
  return [...options.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!).filter((f) => f !== '--help');
}

describe.concurrent('sluice --help and the README reference', { timeout: 15_000 }, () => {
  it.each(['run', 'plan', 'chaos', 'new', 'tap'])(
    '%s: help with examples, and every flag documented in the README',
    async (command) => {
      const r = await sluice([command, '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('\nExamples:\n');
      const examples = r.stdout.slice(r.stdout.indexOf('\nExamples:\n'));
      expect(examples).toMatch(new RegExp(`^ {2}(SLUICE_LOG_LEVEL=\\\\w+ )?sluice ${command} `, 'm'));
      const flags = flagsOf(r.stdout);
      expect(flags.length).toBeGreaterThan(0);
      const section = reference.slice(reference.indexOf(`**\`sluice ${command} `));
      expect(
        reference.indexOf(`**\`sluice ${command} `),
        `README documents sluice ${command}`,
      ).toBeGreaterThan(0);
      const documented = section.slice(0, section.indexOf('\n**`sluice ', 1) >>> 0);
      for (const flag of flags)
        expect(documented, `README documents ${command} ${flag}`).toContain(`\`${flag}`);
      // And nothing the command does not have.
      for (const [, flag] of documented.matchAll(/`(--[\w-]+)/g)) expect(flags).toContain(flag);
    },
  );

  it('documents --json and SLUICE_LOG_LEVEL in the README and in run --help', async () => {
    const r = await sluice(['run', '--help']);
    expect(r.stdout).toContain('SLUICE_LOG_LEVEL');
    expect(r.stdout).toMatch(/sluice run app\.ts --json/);
    expect(reference).toContain('`SLUICE_LOG_LEVEL`');
    expect(reference).toContain('`--json`');
  });

  it('help for a command that does not exist says so', async () => {
    const r = await sluice(['help', 'bogus']);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      2,
      '',
      "sluice: unknown command 'bogus' (sluice help lists the commands)\n",
    ]);
  });

  it('the top-level help lists the commands with examples', async () => {
    const r = await sluice(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['run', 'plan', 'chaos', 'new']) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^ {2}sluice ${command} `, 'm'));
    }
  });
});

it('ends quietly when the reader of its output goes away (sluice help run | head -1)', async () => {
  const p = startSluice(['help', 'run']);
  // What `head -1` does: read the first line, then close the pipe.
  await p.waitFor('stdout', /\n/);
  p.child.stdout!.destroy();
  const r = await p.exited;
  expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
  expect(r.code).toBe(0);
});
