import { isWellFormed } from '../core/strings.ts';
import { decodeState, encodeState } from './codec.ts';

/*
 * One stored slice of a DurableMap: `sets` (flat: k, v, k, v, …) and `deletes`. Most large maps are
 * string → number (counts, sums, offsets): those slices are written in a compact form that a restore
 * applies straight to the map, with no intermediate arrays of entries and no generic CBOR decoding of a
 * million small strings and numbers:
 *
 *   0        1        2        3         4            8               12                16
 *   +--------+--------+--------+---------+------------+---------------+-----------------+-- - -
 *   | 0x01   | values | endian | lengths | sets (u32) | deletes (u32) | key bytes (u32) | keys …
 *   +--------+--------+--------+---------+------------+---------------+-----------------+-- - -
 *
 *   keys: the UTF-8 of every key of the sets then of the deletes, concatenated; then, aligned to its
 *   width, the UTF-16 length of each key as u8, u16 or u32 (`lengths`: 1, 2 or 4 bytes, the narrowest
 *   that holds the longest key); then, aligned to 8, one value per set as int8 (values 3), int16 (4),
 *   int32 (1) or float64 (2), the narrowest that holds every value exactly; numbers in the platform's
 *   byte order (endian 1: big-endian). Small counts and short keys take ~9 bytes an entry, as in CBOR.
 *
 * Anything else (a key that is not a string, or a string with a lone surrogate, which UTF-8 cannot
 * carry; a value that is not a number) is the CBOR of `[sets, deletes]`, which always starts with 0x82.
 * Both forms give back every key and number exactly (-0 and NaN included).
 */
const COMPACT = 1;
const INT32 = 1;
const FLOAT64 = 2;
const INT8 = 3;
const INT16 = 4;
const WIDTH = [0, 4, 8, 1, 2];
const HEADER = 16;
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0 ? 1 : 0;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function encodeSlice(sets: readonly unknown[], deletes: readonly unknown[]): Uint8Array {
  return encodeCompact(sets, deletes) ?? encodeState([sets, deletes]);
}

function encodeCompact(sets: readonly unknown[], deletes: readonly unknown[]): Uint8Array | undefined {
  const n = sets.length >>> 1;
  const keys: string[] = new Array(n + deletes.length);
  let ints = true;
  let low = 0;
  let high = 0;
  for (let i = 0; i < n; i++) {
    const k = sets[2 * i];
    const v = sets[2 * i + 1];
    if (typeof k !== 'string' || typeof v !== 'number') return undefined;
    keys[i] = k;
    if (!ints) continue;
    if ((v | 0) !== v || (v === 0 && 1 / v < 0)) ints = false;
    else if (v < low) low = v;
    else if (v > high) high = v;
  }
  let longest = 0;
  for (let i = 0; i < deletes.length; i++) {
    const k = deletes[i];
    if (typeof k !== 'string') return undefined;
    keys[n + i] = k;
  }
  for (let i = 0; i < keys.length; i++) if (keys[i]!.length > longest) longest = keys[i]!.length;
  const joined = keys.join('');
  // A lone surrogate would come back from UTF-8 as U+FFFD.
  if (!isWellFormed(joined)) return undefined;
  const kind = !ints
    ? FLOAT64
    : low >= -128 && high <= 127
      ? INT8
      : low >= -32768 && high <= 32767
        ? INT16
        : INT32;
  const lengthWidth = longest <= 0xff ? 1 : longest <= 0xffff ? 2 : 4;
  const text = utf8.encode(joined);
  const lengthsAt = pad(HEADER + text.length, lengthWidth);
  const valuesAt = pad(lengthsAt + lengthWidth * keys.length, 8);
  const bytes = new Uint8Array(valuesAt + n * WIDTH[kind]!);
  const head = new DataView(bytes.buffer, 0, HEADER);
  bytes[0] = COMPACT;
  bytes[1] = kind;
  bytes[2] = BIG_ENDIAN;
  bytes[3] = lengthWidth;
  head.setUint32(4, n, true);
  head.setUint32(8, deletes.length, true);
  head.setUint32(12, text.length, true);
  bytes.set(text, HEADER);
  const lengths = unsigned(lengthWidth, bytes, lengthsAt, keys.length);
  for (let i = 0; i < keys.length; i++) lengths[i] = keys[i]!.length;
  const values = numbers(kind, bytes, valuesAt, n);
  for (let i = 0; i < n; i++) values[i] = sets[2 * i + 1] as number;
  return bytes;
}

type Column = Int8Array | Int16Array | Int32Array | Float64Array;

function numbers(kind: number, bytes: Uint8Array, at: number, n: number): Column {
  const { buffer, byteOffset } = bytes;
  if (kind === INT8) return new Int8Array(buffer, byteOffset + at, n);
  if (kind === INT16) return new Int16Array(buffer, byteOffset + at, n);
  if (kind === INT32) return new Int32Array(buffer, byteOffset + at, n);
  if (kind === FLOAT64) return new Float64Array(buffer, byteOffset + at, n);
  throw new TypeError(`a compact map slice with values of kind ${kind}`);
}

function unsigned(
  width: number,
  bytes: Uint8Array,
  at: number,
  n: number,
): Uint8Array | Uint16Array | Uint32Array {
  const { buffer, byteOffset } = bytes;
  if (width === 1) return new Uint8Array(buffer, byteOffset + at, n);
  if (width === 2) return new Uint16Array(buffer, byteOffset + at, n);
  if (width === 4) return new Uint32Array(buffer, byteOffset + at, n);
  throw new TypeError(`a compact map slice with key lengths of ${width} bytes`);
}

/**
 * A compact slice's header, checked against the slice's length. Only what the encoder writes passes: a
 * value kind or a key-length width it never writes is refused here, before any view is built on it.
 */
function compactHeader(slice: Uint8Array) {
  if (slice.length < HEADER) throw new TypeError('a compact map slice shorter than its header');
  if (slice[2] !== BIG_ENDIAN) throw new TypeError('a compact map slice of the other byte order');
  const kind = slice[1]!;
  const lengthWidth = slice[3]!;
  if (![INT32, FLOAT64, INT8, INT16].includes(kind))
    throw new TypeError(`a compact map slice with values of kind ${kind}`);
  if (lengthWidth !== 1 && lengthWidth !== 2 && lengthWidth !== 4)
    throw new TypeError(`a compact map slice with key lengths of ${lengthWidth} bytes`);
  const head = new DataView(slice.buffer, slice.byteOffset, HEADER);
  const n = head.getUint32(4, true);
  const d = head.getUint32(8, true);
  const textLength = head.getUint32(12, true);
  const lengthsAt = pad(HEADER + textLength, lengthWidth);
  const valuesAt = pad(lengthsAt + lengthWidth * (n + d), 8);
  if (valuesAt + n * WIDTH[kind]! !== slice.length)
    throw new TypeError('a compact map slice of the wrong length');
  return { n, d, kind, textLength, lengthWidth, lengthsAt, valuesAt };
}

/** Calls `set` for each set and `del` for each delete of a slice, in order (sets first). */
export function applySlice(
  slice: Uint8Array,
  set: (key: unknown, value: unknown) => void,
  del: (key: unknown) => void,
): void {
  if (slice[0] !== COMPACT) {
    const [sets, deletes] = decodeState(slice) as [unknown[], unknown[]];
    if (!Array.isArray(sets) || !Array.isArray(deletes)) throw new TypeError('a map slice of another shape');
    for (let i = 0; i < sets.length; i += 2) set(sets[i], sets[i + 1]);
    for (const k of deletes) del(k);
    return;
  }
  const { n, d, kind, textLength, lengthWidth, lengthsAt, valuesAt } = compactHeader(slice);
  // Views need aligned offsets: the stored slice may sit anywhere in the record it was read from.
  const own = slice.byteOffset % 8 === 0 ? slice : slice.slice();
  const joined = fromUtf8.decode(own.subarray(HEADER, HEADER + textLength));
  const lengths = unsigned(lengthWidth, own, lengthsAt, n + d);
  const values = numbers(kind, own, valuesAt, n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const end = at + lengths[i]!;
    set(joined.slice(at, end), values[i]);
    at = end;
  }
  for (let i = n; i < n + d; i++) {
    const end = at + lengths[i]!;
    del(joined.slice(at, end));
    at = end;
  }
  if (at !== joined.length) throw new TypeError('a compact map slice whose keys do not add up');
}

/**
 * Checks a slice's framing without decoding its keys (a restore that builds later checks what it can
 * before the operator starts): a compact slice's header against its length and its entry count; any
 * other slice must be a CBOR array of two.
 */
export function checkSlice(slice: Uint8Array, entries: number): void {
  if (slice[0] !== COMPACT) {
    if (slice[0] !== 0x82) throw new TypeError('a map slice that is neither compact nor [sets, deletes]');
    return;
  }
  const { n, d } = compactHeader(slice);
  if (n + d !== entries) throw new TypeError(`a map slice of ${n + d} entries where ${entries} are recorded`);
}

/** The slice as `[sets, deletes]` (tests, diagnostics). */
export function readSlice(slice: Uint8Array): [unknown[], unknown[]] {
  const sets: unknown[] = [];
  const deletes: unknown[] = [];
  applySlice(
    slice,
    (k, v) => sets.push(k, v),
    (k) => deletes.push(k),
  );
  return [sets, deletes];
}

function pad(x: number, to: number): number {
  return (x + to - 1) & ~(to - 1);
}
