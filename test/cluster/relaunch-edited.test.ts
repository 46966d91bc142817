import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
    // Inside the repository, so that it resolves 'sluice' as the example does; in a folder of its own, since
    // a node's build hash covers the source files beside a module: a file next to the example changed the
    // example's hash for a cluster test running at the same time (its nodes were refused).
    const dir = join(repoRoot, 'examples', 'running-sums', `.edited-${process.pid}`);
    await mkdir(dir, { recursive: true });
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const module = join(dir, 'app.ts');
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
