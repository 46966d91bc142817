import { isWellFormed } from '../core/strings.ts';

/**
 * The string and object columns of an encoded batch (see batch-codec.ts for the batch around them). Each
 * column is written as the cheapest of these that gives every value back exactly:
 *
 * - TEXT (strings): u32 LE byte length T, count × u32 (platform order) the strings' lengths in UTF-16
 *   units, padding to 8, T bytes: the strings joined, in UTF-8. Only when the joined text is well-formed
 *   UTF-16 (no lone surrogate), so that UTF-8 gives it back exactly. No escaping, one pass per string.
 * - FLAT_NUMBERS (plain objects whose values are all numbers, at most 255 keys in all and none named
 *   `__proto__`): u32 LE K keys, u32 LE M entries, u32 LE L, u32 LE W, L bytes of the UTF-8 JSON array
 *   of the key names, count bytes (entries of each object), M bytes (key of each entry), padding to 8,
 *   M values in for-in order (platform order), each W bytes: int8, int16 or int32 when every value is an
 *   integer that fits (not -0), else float64. Decoded by assigning the keys in that order, so each object
 *   enumerates as it did. ~3× cheaper than JSON for the case study's `fields` (ids: a byte each).
 * - JSON_VALUES (anything else the gather accepted): u32 LE byte length, the UTF-8 JSON array of the
 *   column's values.
 *
 * A column is encoded into scratch memory reused from batch to batch; the caller copies it into the batch
 * before the next `beginColumns`.
 */
export const JSON_VALUES = 3;
export const TEXT = 4;
export const FLAT_NUMBERS = 7;
/** Most keys of a flat-numbers column, and of one object in it (a byte each). */
const MAX_FLAT_KEYS = 255;

/** A column's type byte and bytes (a view of scratch memory: copy it before the next beginColumns). */
export interface EncodedColumn {
  readonly type: number;
  readonly bytes: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
let scratch = new Uint8Array(64 * 1024);
let used = 0;

/** Starts the columns of a new batch: the scratch memory of the last one is free again. */
export function beginColumns(): void {
  used = 0;
}

/** `size` bytes of scratch memory, at a multiple of 8; earlier views stay valid if it has to grow. */
function take(size: number): Uint8Array {
  if (used + size > scratch.length) {
    scratch = new Uint8Array(Math.max(size, scratch.length * 2));
    used = 0;
  }
  const bytes = scratch.subarray(used, used + size);
  used = pad8(used + size);
  return bytes;
}

/** Encodes a string ('s') or object ('j') column of `n` values. */
export function encodeValueColumn(kind: string, values: readonly unknown[], n: number): EncodedColumn {
  if (kind === 's') {
    const joined = (values as readonly string[]).join('');
    if (isWellFormed(joined)) return encodeText(values as readonly string[], joined, n);
  } else {
    const flat = encodeFlatNumbers(values, n);
    if (flat) return flat;
  }
  const json = JSON.stringify(values);
  const bytes = take(4 + json.length * 3);
  const { written } = utf8.encodeInto(json, bytes.subarray(4));
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, written, true);
  return { type: JSON_VALUES, bytes: bytes.subarray(0, 4 + written) };
}

function encodeText(values: readonly string[], joined: string, n: number): EncodedColumn {
  const textAt = pad8(4 + n * 4);
  const bytes = take(textAt + joined.length * 3);
  // Scratch views start at multiples of 8: the lengths are aligned.
  const lengths = new Uint32Array(bytes.buffer, bytes.byteOffset + 4, n);
  for (let i = 0; i < n; i++) lengths[i] = values[i]!.length;
  bytes.fill(0, 4 + n * 4, textAt);
  const { written } = utf8.encodeInto(joined, bytes.subarray(textAt));
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, written, true);
  return { type: TEXT, bytes: bytes.subarray(0, textAt + written) };
}

const keyIds = new Map<string, number>();
let ids = new Uint8Array(16 * 1024);
let numbers = new Float64Array(16 * 1024);
let counts = new Uint8Array(1024);

function encodeFlatNumbers(values: readonly unknown[], n: number): EncodedColumn | undefined {
  keyIds.clear();
  const names: string[] = [];
  let m = 0;
  if (counts.length < n) counts = new Uint8Array(n);
  const perObject = counts;
  // The narrowest integer type holding every value; not integers (or -0): float64.
  let low = 0;
  let high = 0;
  let integers = true;
  for (let i = 0; i < n; i++) {
    const v = values[i] as Record<string, unknown>;
    let count = 0;
    for (const k in v) {
      const e = v[k];
      if (typeof e !== 'number' || ++count > MAX_FLAT_KEYS) return undefined;
      let id = keyIds.get(k);
      if (id === undefined) {
        if (names.length === MAX_FLAT_KEYS || k === '__proto__') return undefined;
        id = names.length;
        names.push(k);
        keyIds.set(k, id);
      }
      if (m === ids.length) {
        ids = grow(ids, new Uint8Array(m * 2));
        numbers = grow(numbers, new Float64Array(m * 2));
      }
      ids[m] = id;
      numbers[m++] = e;
      if (integers) {
        if ((e | 0) !== e || (e === 0 && 1 / e < 0)) integers = false;
        else if (e < low) low = e;
        else if (e > high) high = e;
      }
    }
    perObject[i] = count;
  }
  const width = !integers ? 8 : low >= -128 && high <= 127 ? 1 : low >= -32768 && high <= 32767 ? 2 : 4;
  const nameText = JSON.stringify(names);
  const headAt = 16;
  const valuesAt = pad8(headAt + nameText.length * 3 + n + m);
  const bytes = take(valuesAt + m * width);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const { written } = utf8.encodeInto(nameText, bytes.subarray(headAt));
  view.setUint32(0, names.length, true);
  view.setUint32(4, m, true);
  view.setUint32(8, written, true);
  view.setUint32(12, width, true);
  let at = headAt + written;
  bytes.set(perObject.subarray(0, n), at);
  bytes.set(ids.subarray(0, m), at + n);
  at = pad8(at + n + m);
  bytes.fill(0, headAt + written + n + m, at);
  // Scratch views start at multiples of 8, so `at` is aligned for every width.
  new VALUE_ARRAYS[width]!(bytes.buffer, bytes.byteOffset + at, m).set(numbers.subarray(0, m));
  return { type: FLAT_NUMBERS, bytes: bytes.subarray(0, at + m * width) };
}

/** A typed-array constructor, as viewOf takes it. */
interface ViewOf<T> {
  new (buffer: ArrayBufferLike, offset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}
interface NumberView extends ArrayLike<number> {
  set(values: ArrayLike<number>): void;
}
/** The typed array of a flat-numbers column's values, by their width in bytes. */
const VALUE_ARRAYS: Readonly<Record<number, ViewOf<NumberView>>> = {
  1: Int8Array,
  2: Int16Array,
  4: Int32Array,
  8: Float64Array,
};

function grow<A extends Uint8Array | Float64Array>(from: A, to: A): A {
  to.set(from);
  return to;
}

/**
 * Decodes the column of `type` that starts at `at` in `bytes` (a multiple of 8 from the batch's start);
 * returns its values and where it ends (before padding).
 */
export function decodeValueColumn(
  type: number,
  bytes: Uint8Array,
  at: number,
  n: number,
): { values: unknown[]; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === TEXT) {
    const length = view.getUint32(at, true);
    const lengths = viewOf(Uint32Array, bytes.subarray(at + 4, at + 4 + n * 4));
    const textAt = at + pad8(4 + n * 4);
    const text = fromUtf8.decode(bytes.subarray(textAt, textAt + length));
    return { values: splitText(text, lengths), end: textAt + length };
  }
  if (type === FLAT_NUMBERS) {
    const m = view.getUint32(at + 4, true);
    const nameLength = view.getUint32(at + 8, true);
    const width = view.getUint32(at + 12, true);
    const valueArray = VALUE_ARRAYS[width];
    if (valueArray === undefined) throw new Error(`internal: flat-numbers column of width ${width}`);
    const namesAt = at + 16;
    const names = JSON.parse(fromUtf8.decode(bytes.subarray(namesAt, namesAt + nameLength))) as string[];
    if (names.includes('__proto__')) throw new Error('internal: encoded batch with a __proto__ key');
    const perObject = bytes.subarray(namesAt + nameLength, namesAt + nameLength + n);
    const keys = bytes.subarray(namesAt + nameLength + n, namesAt + nameLength + n + m);
    const valuesAt = at + pad8(16 + nameLength + n + m);
    const numbersOf = viewOf(valueArray, bytes.subarray(valuesAt, valuesAt + m * width));
    const values = new Array<unknown>(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const o: Record<string, number> = {};
      for (let c = perObject[i]!; c > 0; c--, k++) o[names[keys[k]!]!] = numbersOf[k]!;
      values[i] = o;
    }
    return { values, end: valuesAt + m * width };
  }
  if (type !== JSON_VALUES) throw new Error(`internal: encoded batch with a column of unknown type ${type}`);
  const length = view.getUint32(at, true);
  const values = JSON.parse(fromUtf8.decode(bytes.subarray(at + 4, at + 4 + length))) as unknown[];
  return { values, end: at + 4 + length };
}

/** `raw` as a typed view, copied first when it does not start at a multiple of 8 (as a view must). */
function viewOf<T>(make: ViewOf<T>, raw: Uint8Array): T {
  const a = raw.byteOffset % 8 === 0 ? raw : raw.slice();
  return new make(a.buffer, a.byteOffset, a.byteLength / make.BYTES_PER_ELEMENT);
}

/** The strings of a text column: `text` cut at the given lengths (UTF-16 units). */
function splitText(text: string, lengths: ArrayLike<number>): string[] {
  const out = new Array<string>(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    const end = at + lengths[i]!;
    out[i] = text.slice(at, end);
    at = end;
  }
  if (at !== text.length) throw new Error('internal: a text column whose lengths do not add up');
  return out;
}

function pad8(x: number): number {
  return (x + 7) & ~7;
}
