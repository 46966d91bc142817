import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { storeDirName } from '../../src/storage/store-dir.ts';

test('an application name is one folder inside the store parent, whatever it holds', () => {
  const parent = resolve('/work/.sluice');
  for (const name of [
    '..',
    '.',
    '../../escaped',
    'a/b',
    'a\\b',
    '%2E%2E',
    'machine-data',
    'mit Leerzeichen',
    'ümlaut',
  ]) {
    const dir = resolve(join(parent, storeDirName(name)));
    expect(dir.startsWith(`${parent}/`), name).toBe(true);
    expect(dir.slice(parent.length + 1), name).not.toMatch(/[/\\]/);
  }
  // Distinct names keep distinct folders; ordinary names keep theirs (existing stores are found).
  expect(new Set(['..', '%2E%2E', '.', 'a/b', 'a%2Fb'].map(storeDirName)).size).toBe(5);
  expect(storeDirName('machine-data')).toBe('machine-data');
  expect(storeDirName('mit Leerzeichen')).toBe('mit Leerzeichen');
});
