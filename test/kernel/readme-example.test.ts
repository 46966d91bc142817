import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import app from '../../examples/max-cpu/app.ts';
import { runToEnd } from './kit.ts';

test('the README’s first example is examples/max-cpu/app.ts, word for word', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const file = readFileSync(new URL('../../examples/max-cpu/app.ts', import.meta.url), 'utf8');
  const code = file.slice(file.indexOf('import { application'));
  expect(readme).toContain(`\`\`\`ts\n${code}\`\`\``);
});

test('the README’s first example prints the maximum CPU of each of its 10 devices in every window', async () => {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => lines.push(s) > 0) as typeof process.stdout.write;
  try {
    await runToEnd(app, { windows: 3, checkpointWindowCount: 1 });
  } finally {
    process.stdout.write = write;
  }
  const printed = lines.filter((l) => l.startsWith('max-cpu '));
  expect(printed).toHaveLength(30);
  expect(printed).toContain('max-cpu [1] {"device":7,"max":99}\n');
});
