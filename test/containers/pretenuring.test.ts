import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { namesPretenuring } from '../../src/core/pretenuring.ts';

const MODULE = new URL('../../src/core/pretenuring.ts', import.meta.url).href;

/**
 * In a fresh node: objects from one literal, all kept alive (as the last tuples of a batch are), made by
 * unoptimized code (whose allocations V8 counts) until V8 decides to pretenure that literal; then whether
 * a fresh object from the function's optimized code (which follows the decision) is still allocated young.
 * Optimization is held off, then forced, by hand: left to itself, V8 sometimes optimized the function
 * before its first scavenge had decided anything, and never tenured the literal (seen once in CI).
 */
function freshObjectYoung(turnOff: boolean, nodeArgs: string[] = []): boolean {
  const script = `
    const { turnOffAllocationSitePretenuring } = await import(${JSON.stringify(MODULE)});
    if (${turnOff}) turnOffAllocationSitePretenuring();
    const { setFlagsFromString } = await import('node:v8');
    const inYoung = new Function('o', 'return %InYoungGeneration(o)');
    const optimize = new Function('f', 'a',
      '%PrepareFunctionForOptimization(f); f.call(a, 0); %OptimizeFunctionOnNextCall(f); f.call(a, 1)');
    class Gen { at(i) { return { a: i, b: i * 7, c: i + 2, d: 1, e: 2, f: 3, g: 4, h: 5, k: 6, l: 7, m: 8, n: 9 }; } }
    const g = new Gen();
    const keep = [];
    setFlagsFromString('--no-opt');
    for (let i = 0; i < 400000; i++) keep.push(g.at(i));
    setFlagsFromString('--opt');
    optimize(g.at, g);
    console.log(inYoung(g.at(1)) ? 'young' : 'old');`;
  const { NODE_OPTIONS: _, ...env } = process.env;
  const out = execFileSync(
    process.execPath,
    [
      '--allow-natives-syntax',
      '--max-semi-space-size=1',
      ...nodeArgs,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { env, encoding: 'utf8' },
  );
  return out.trim() === 'young';
}

// Containers turn V8's allocation-site pretenuring off for the process (src/core/pretenuring.ts): a batch
// keeps its newest tuples alive, and V8 then allocated a source's tuples in the old generation for good.
describe('turning off allocation-site pretenuring', () => {
  it('keeps a literal whose objects all survived allocating young, where V8 alone tenures it', () => {
    expect(freshObjectYoung(false)).toBe(false);
    expect(freshObjectYoung(true)).toBe(true);
  });

  it('leaves the flag alone when node was started with it', () => {
    expect(freshObjectYoung(true, ['--allocation-site-pretenuring'])).toBe(false);
    expect(namesPretenuring(['--import', 'tsx', '--no-allocation-site-pretenuring'])).toBe(true);
    expect(namesPretenuring([], '--max-old-space-size=4096 --allocation_site_pretenuring')).toBe(true);
    expect(namesPretenuring(['--import', 'tsx', '--expose-gc'], '--max-semi-space-size=32')).toBe(false);
    expect(namesPretenuring(['--allocation-site-pretenuring-x'])).toBe(false);
  });
});
