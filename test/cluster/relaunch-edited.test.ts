import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { repoRoot } from '../cli/cli-process.ts';
import { clusterFixture } from './cluster-kit.ts';

/**
 * An application edited between two launches on the same supervisor: the second launch runs the file as
 * it is now. The supervisor once planned its cached copy of the module (imports are cached by URL) while
 * the nodes' fresh workers loaded the new file, so every container failed to find the old application.
 */
describe('relaunching an edited application on a running cluster', { timeout: 120_000 }, () => {
  const fixture = clusterFixture('sluice-relaunch-edited-');

  it('plans the module as it is on disk now, not as the supervisor first imported it', async () => {
    const source = await readFile(join(repoRoot, 'examples', 'running-sums', 'app.ts'), 'utf8');
    const named = (name: string) => source.replace(/application\(\s*'running-sums'/, `application('${name}'`);
    expect(named('x')).not.toBe(source);
    // Next to the example, so that it resolves 'sluice' as the example does.
    const module = join(repoRoot, 'examples', 'running-sums', `edited-${process.pid}.ts`);
    onTestFinished(() => rm(module, { force: true }));
    await writeFile(module, named('edited-one'));
    const { cluster: c } = await fixture.start(['n1']);
    const first = await c.client.launch(module, { virtualTime: true, windows: 4 });
    expect(first.name).toBe('edited-one');
    expect((await c.client.wait('edited-one')).state).toBe('done');
    await writeFile(module, named('edited-two'));
    const second = await c.client.launch(module, { virtualTime: true, windows: 4 });
    expect(second.name).toBe('edited-two');
    const ended = await c.client.wait('edited-two');
    expect([ended.state, ended.window, ended.error]).toEqual(['done', 4, null]);
  });
});
