import { expect, test } from 'vitest';
import { parseReading, readingToFields } from '../../actors/redis/reading-fields.ts';

const good = {
  customer: 3,
  product: 5,
  os: 11,
  software1: 10,
  software2: 13,
  software3: 4,
  device: 42,
  cpu: 71.5,
  ram: 40,
  hdd: 12,
  minute: 607,
  day: 20789,
};

/** The entry's fields with `field` written as `text`. */
const withField = (field: string, text: string) =>
  readingToFields(good).map((v, i, a) => (a[i - 1] === field ? text : v));

test('a stream entry of decimal fields is a reading', () => {
  expect(parseReading(readingToFields(good))).toEqual(good);
  expect(parseReading(withField('cpu', '7.15e1'))).toEqual(good);
  expect(parseReading(withField('cpu', '.5'))).toEqual({ ...good, cpu: 0.5 });
});

test.each([
  ['minute', '0x10'],
  ['minute', '0b1'],
  ['minute', '0o7'],
  ['cpu', 'Infinity'],
  ['cpu', ' 50 '],
  ['cpu', '5_0'],
  ['cpu', ''],
  ['cpu', '1e'],
])('%s %j is not a number: a bad reading, not one of another value', (field, text) => {
  expect(parseReading(withField(field, text))).toBe(`${field}: not a number (${JSON.stringify(text)})`);
});

test.each(['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty'])(
  'an extra field named %s is ignored like any unknown field',
  (name) => {
    const parsed = parseReading([name, 'y', ...readingToFields(good), name, '1']);
    expect(parsed).toEqual(good);
    expect(Object.keys(parsed as object)).not.toContain(name);
  },
);
