import { deserialize, serialize } from 'node:v8';
import { Encoder } from 'cbor-x';
import { TupleNotEncodableError } from './errors.ts';
import {
  type CompiledShape,
  MAX_FIELDS,
  type Shape,
  scatterFor,
  shapeOf,
  type Widths,
  widen,
} from './numeric-columns.ts';
import { findNotPlainData } from './plain-data.ts';
import { Slab, viewsOf } from './slab.ts';
import {
  beginColumns,
  decodeValueColumn,
  type EncodedColumn,
  encodeValueColumn,
  JSON_VALUES,
} from './value-columns.ts';

/*
 * An encoded batch: the tuples of one DATA message as one self-contained byte string. Channels keep their
 * replay buffers in this form (bytes are not traced by the garbage collector, object graphs are), and the
 * cross-thread and cross-node channels will carry it as it is (one transferable ArrayBuffer).
 *
 *   0         1        2        3        4                8
 *   +---------+--------+--------+--------+----------------+-- - -
 *   | version | layout | flags  |   0    | count (u32 LE) | body
 *   +---------+--------+--------+--------+----------------+-- - -
 *
 * layout COLUMNS (every tuple a number, or a string, or a plain object with the same keys and in each field
 *   a number, a string or a plain object JSON keeps exactly): u32 LE length L of the names, L bytes of
 *   UTF-8 JSON (`null` for bare values, else the key array), one type byte per column (1 = int32,
 *   2 = float64, 5 = int8, 6 = int16, or a string or object type), zero padding to a multiple of 8, then each
 *   column padded to 8:
 *   - numbers: count × 1, 2, 4 or 8 bytes in the platform's byte order (flags bit 0: big-endian);
 *   - strings and objects: 3 = JSON, 4 = text, 7 = flat numbers, as value-columns.ts writes them.
 * layout CBOR (anything else that is plain data): the cbor-x encoding of the tuple array (record
 *   extension on, each encoding carrying its own record definitions, so it needs no shared table).
 * layout V8 (plain data cbor-x would give back altered: a -0, a lone surrogate in a string or key):
 *   node:v8's serialization of the tuple array, which keeps both. Rare; the nodes of a cluster run one
 *   build, so they read each other's.
 */
const VERSION = 1;
const COLUMNS = 1;
const CBOR = 2;
const V8 = 3;
const INT32 = 1;
const FLOAT64 = 2;
const INT8 = 5;
const INT16 = 6;
/** The type byte of a number column of each width. */
const NUMBER_TYPES: Record<string, number> = { '1': INT8, '2': INT16, '4': INT32, '8': FLOAT64 };
const WIDTH_OF_TYPE: Record<number, number> = { [INT8]: 1, [INT16]: 2, [INT32]: 4, [FLOAT64]: 8 };
const HEADER = 8;
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0 ? 1 : 0;

const cbor = new Encoder({
  useRecords: true,
  mapsAsObjects: true,
  useTag259ForMaps: true,
  copyBuffers: true, // a decoded Uint8Array must not be a view into bytes a later replay decodes again
} as ConstructorParameters<typeof Encoder>[0]);
const fromUtf8 = new TextDecoder();

/** Where encodeBatch takes its bytes from (a Slab, or a fresh buffer per batch). */
export type Allocate = (size: number) => Uint8Array;
const fresh: Allocate = (size) => new Uint8Array(size);

/**
 * Encodes a batch; throws TupleNotEncodableError for a tuple that would not come back as it was.
 * With a slab, the bytes are a view into it (copy them to send them elsewhere).
 */
export function encodeBatch(tuples: readonly unknown[], slab?: Slab): Uint8Array {
  return encodeAs(tuples.length > 0 ? shapeOf(tuples[0]) : undefined, tuples, slab);
}

function encodeAs(shape: CompiledShape | undefined, tuples: readonly unknown[], slab?: Slab): Uint8Array {
  if (shape !== undefined) {
    const bytes = shape.valueFields === 0 ? packNumbers(shape, tuples, slab) : packMixed(shape, tuples, slab);
    if (bytes) return bytes;
  }
  return packCbor(tuples, slab ? (size) => slab.take(size) : fresh);
}

/**
 * The encoder of one stream (a channel's replay buffer): its own slab, and the shape of its last batch,
 * tried first. A stream's batches nearly always have one shape, and the compiled gather checks every
 * tuple against it (a plain object, no other keys, a number in each field), so a batch it accepts is of
 * that shape: the per-batch look-up of the first tuple's keys is skipped.
 */
export class BatchEncoder {
  private last: CompiledShape | undefined;
  constructor(private readonly slab = new Slab()) {}

  encode(tuples: readonly unknown[]): Uint8Array {
    const last = this.last;
    if (last !== undefined && tuples.length > 0) {
      const bytes =
        last.valueFields === 0 ? packNumbers(last, tuples, this.slab) : packMixed(last, tuples, this.slab);
      if (bytes) return bytes;
    }
    const shape = tuples.length > 0 ? shapeOf(tuples[0]) : undefined;
    this.last = shape;
    return encodeAs(shape, tuples, this.slab);
  }

  /** The batch is dropped (its bytes may be reused). */
  release(bytes: Uint8Array): void {
    this.slab.release(bytes);
  }
}

/** Decodes a batch made by encodeBatch into fresh tuples. */
export function decodeBatch(bytes: Uint8Array): unknown[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== VERSION) throw new Error(`internal: encoded batch of unknown version ${bytes[0]}`);
  const n = view.getUint32(4, true);
  if (bytes[1] === CBOR) return cbor.decode(bytes.subarray(HEADER)) as unknown[];
  if (bytes[1] === V8) return deserialize(bytes.subarray(HEADER)) as unknown[];
  if (bytes[1] !== COLUMNS) throw new Error(`internal: encoded batch of unknown layout ${bytes[1]}`);
  if ((bytes[2]! & 1) !== BIG_ENDIAN) throw new Error('internal: encoded batch of the other byte order');
  const nameLength = view.getUint32(HEADER, true);
  let at = HEADER + 4;
  const shape = JSON.parse(fromUtf8.decode(bytes.subarray(at, at + nameLength))) as Shape;
  if (shape?.includes('__proto__')) throw new Error('internal: encoded batch with a __proto__ column');
  at += nameLength;
  const fields = shape === null ? 1 : shape.length;
  const types = bytes.subarray(at, at + fields);
  at = pad8(at + fields);
  const cols: ArrayLike<unknown>[] = [];
  for (let j = 0; j < fields; j++) {
    const width = WIDTH_OF_TYPE[types[j]!];
    if (width === undefined) {
      const { values, end } = decodeValueColumn(types[j]!, bytes, at, n);
      cols.push(values);
      at = pad8(end);
      continue;
    }
    const raw = bytes.subarray(at, at + n * width);
    cols.push(column(types[j]!, raw, n));
    at = pad8(at + n * width);
  }
  return scatterFor(shape)(cols, n);
}

function column(type: number, raw: Uint8Array, n: number): ArrayLike<number> {
  const aligned = raw.byteOffset % 8 === 0 ? raw : raw.slice();
  const { buffer, byteOffset } = aligned;
  switch (type) {
    case INT8:
      return new Int8Array(buffer, byteOffset, n);
    case INT16:
      return new Int16Array(buffer, byteOffset, n);
    case INT32:
      return new Int32Array(buffer, byteOffset, n);
    default:
      return new Float64Array(buffer, byteOffset, n);
  }
}

const base = new Int32Array(MAX_FIELDS + 1);
/** Where number column j starts among the number columns, in bytes. */
const offsets = new Int32Array(MAX_FIELDS);
const strs: unknown[][] = Array.from({ length: MAX_FIELDS }, () => []);
let scratch = new Uint8Array(64 * 1024);
let scratchViews = viewsOf(scratch.buffer);

/** Lays out the number columns of `c` in field order (string and object columns skipped); returns their bytes. */
function layNumbers(c: CompiledShape, n: number, widths: Widths): number {
  let size = 0;
  for (let j = 0; j < c.fields; j++) {
    if (c.kinds[j] !== 'n') continue;
    const width = Number(widths[j]);
    offsets[j] = size;
    base[j] = size / width;
    size = pad8(size + n * width);
  }
  return size;
}

function writeHeader(bytes: Uint8Array, c: CompiledShape, n: number, widths: Widths): number {
  const typesAt = HEADER + 4 + c.names.length;
  const columnsAt = pad8(typesAt + c.fields);
  const view = new DataView(bytes.buffer, bytes.byteOffset, columnsAt);
  header(bytes, view, COLUMNS, n);
  view.setUint32(HEADER, c.names.length, true);
  bytes.set(c.names, HEADER + 4);
  for (let j = 0; j < c.fields; j++) {
    const kind = c.kinds[j];
    // A string or object column's type is chosen when it is written (packMixed).
    bytes[typesAt + j] = kind === 'n' ? NUMBER_TYPES[widths[j]!]! : JSON_VALUES;
  }
  bytes.fill(0, typesAt + c.fields, columnsAt);
  return columnsAt;
}

function columnsStart(c: CompiledShape): number {
  return pad8(HEADER + 4 + c.names.length + c.fields);
}

/**
 * Every field a number: the columns are written in one pass straight into the batch's bytes (through the
 * slab's views of its whole buffer: no views made per batch). Undefined (and nothing taken from the slab)
 * if a tuple does not fit.
 */
function packNumbers(
  c: CompiledShape,
  tuples: readonly unknown[],
  slab: Slab | undefined,
): Uint8Array | undefined {
  const n = tuples.length;
  for (;;) {
    const widths = c.widths;
    const head = headerOf(c, widths);
    const room = layNumbers(c, n, widths);
    const bytes = slab ? slab.take(head.length + room) : new Uint8Array(head.length + room);
    const views = slab ? slab.views : viewsOf(bytes.buffer);
    // Column starts in elements of the whole buffer (the slab hands out multiples of 8 bytes).
    const start = bytes.byteOffset + head.length;
    for (let j = 0; j < c.fields; j++) base[j] = start / Number(widths[j]) + base[j]!;
    const fit = c.gather(widths)(tuples, n, views, base, strs);
    const wide = base[c.fields]!;
    if (fit === n && wide === 0) {
      bytes.set(head);
      bytes[4] = n & 0xff; // count, u32 LE
      bytes[5] = (n >>> 8) & 0xff;
      bytes[6] = (n >>> 16) & 0xff;
      bytes[7] = n >>> 24;
      return bytes;
    }
    slab?.giveBack(bytes);
    if (fit !== n) return undefined;
    c.widths = widen(c, tuples, wide); // this shape's columns are that wide from now on
  }
}

/** The bytes before the columns for this shape and widths, count 0 (made once per shape and widths). */
function headerOf(c: CompiledShape, widths: Widths): Uint8Array {
  if (c.head !== undefined && c.headWidths === widths) return c.head;
  const head = new Uint8Array(columnsStart(c));
  writeHeader(head, c, 0, widths);
  c.head = head;
  c.headWidths = widths;
  return head;
}

/**
 * Some fields strings or objects: numbers are gathered into scratch memory and the rest into arrays, then
 * the batch is sized and written, column by column in field order.
 */
function packMixed(
  c: CompiledShape,
  tuples: readonly unknown[],
  slab: Slab | undefined,
): Uint8Array | undefined {
  const n = tuples.length;
  try {
    for (;;) {
      const widths = c.widths;
      const room = layNumbers(c, n, widths);
      if (scratch.length < room) {
        scratch = new Uint8Array(Math.max(room, scratch.length * 2));
        scratchViews = viewsOf(scratch.buffer);
      }
      const fit = c.gather(widths)(tuples, n, scratchViews, base, strs);
      if (fit !== n) return undefined;
      const wide = base[c.fields]!;
      if (wide !== 0) {
        c.widths = widen(c, tuples, wide);
        continue;
      }
      beginColumns();
      const encoded: (EncodedColumn | undefined)[] = [];
      let size = columnsStart(c);
      for (let j = 0; j < c.fields; j++) {
        if (c.kinds[j] === 'n') {
          size = pad8(size + n * Number(widths[j]));
          continue;
        }
        strs[j]!.length = n;
        encoded[j] = encodeValueColumn(c.kinds[j]!, strs[j]!, n);
        size = pad8(size + encoded[j]!.bytes.length);
      }
      const bytes = slab ? slab.take(size) : new Uint8Array(size);
      let at = writeHeader(bytes, c, n, widths);
      const typesAt = HEADER + 4 + c.names.length;
      for (let j = 0; j < c.fields; j++) {
        const column = encoded[j];
        let end: number;
        if (column === undefined) {
          const length = n * Number(widths[j]);
          bytes.set(scratch.subarray(offsets[j]!, offsets[j]! + length), at);
          end = at + length;
        } else {
          bytes[typesAt + j] = column.type;
          bytes.set(column.bytes, at);
          end = at + column.bytes.length;
        }
        bytes.fill(0, end, pad8(end));
        at = pad8(end);
      }
      return bytes;
    }
  } finally {
    for (let j = 0; j < c.fields; j++) strs[j]!.length = 0; // hold no tuple's values past the call
  }
}

function packCbor(tuples: readonly unknown[], allocate: Allocate): Uint8Array {
  const fidelity = { altered: false };
  for (let i = 0; i < tuples.length; i++) {
    const bad = findNotPlainData(tuples[i], fidelity);
    if (bad) throw new TupleNotEncodableError(i, bad.path, bad.found);
  }
  if (fidelity.altered) return packV8(tuples, allocate);
  let body: Uint8Array;
  try {
    body = encodeReusing(tuples);
  } catch (e) {
    throw new TupleNotEncodableError(-1, '', 'a value cbor-x cannot encode', { cause: e });
  }
  return framed(CBOR, body, tuples.length, allocate);
}

/** A batch cbor-x would give back altered (CborFidelity): V8's serializer keeps what it would change. */
function packV8(tuples: readonly unknown[], allocate: Allocate): Uint8Array {
  return framed(V8, serialize(tuples), tuples.length, allocate);
}

/** The header of `layout` and count `n`, then `body`, in bytes from `allocate`. */
function framed(layout: number, body: Uint8Array, n: number, allocate: Allocate): Uint8Array {
  const bytes = allocate(HEADER + body.length);
  header(bytes, new DataView(bytes.buffer, bytes.byteOffset, HEADER), layout, n);
  bytes.set(body, HEADER);
  return bytes;
}

/**
 * cbor-x's RESET_BUFFER_MODE (not exported by name): the encoder writes every batch from the same place
 * of its buffer, so the buffer grows once to the largest batch and is reused. Without it each encoding
 * starts where the last ended and a batch of ~90 KB (1,024 records) soon needs a fresh buffer: an
 * allocation (and garbage) per batch. Safe here: the body is copied out before the next encoding.
 */
const RESET_BUFFER_MODE = 1024;
const encodeReusing = (value: unknown): Uint8Array =>
  (cbor.encode as (v: unknown, options: number) => Uint8Array)(value, RESET_BUFFER_MODE);

function header(bytes: Uint8Array, view: DataView, layout: number, n: number): void {
  bytes[0] = VERSION;
  bytes[1] = layout;
  bytes[2] = BIG_ENDIAN;
  view.setUint32(4, n, true);
}

function pad8(x: number): number {
  return (x + 7) & ~7;
}
