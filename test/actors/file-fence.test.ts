import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { FileFence } from '../../actors/index.ts';
import { FencedOutputError } from '../../src/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fence(): FileFence {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fence-'));
  dirs.push(dir);
  return new FileFence(dir, 'sink#1');
}

test('a fence never claimed lets every epoch through', () => {
  const f = fence();
  expect(f.newest()).toBe(0);
  expect(() => f.check(1)).not.toThrow();
});

test('a claim raises the fence, keeps only the newest epoch file, and an older epoch is refused from then on', () => {
  const f = fence();
  f.claim(2);
  f.claim(5);
  expect(f.newest()).toBe(5);
  expect(readdirSync(f.path)).toEqual(['5']);
  expect(() => f.check(5)).not.toThrow();
  const refused = (() => {
    try {
      f.check(2);
    } catch (e) {
      return e;
    }
  })();
  expect(refused).toBeInstanceOf(FencedOutputError);
  expect(refused).toMatchObject({ code: 'SLUICE_FENCED', epoch: 2, newest: 5 });
});

test('a claim by an older epoch is refused and does not lower the fence; the same epoch may claim again', () => {
  const f = fence();
  f.claim(4);
  expect(() => f.claim(3)).toThrow(FencedOutputError);
  expect(f.newest()).toBe(4);
  expect(() => f.claim(4)).not.toThrow();
  expect(readdirSync(f.path)).toEqual(['4']);
});
