/**
 * The fast path of the batch codec: a batch whose tuples are all numbers (or all strings), or all plain
 * objects with the same keys (in the same order) and in each field a number, a string, or a small plain
 * object that JSON gives back exactly (the same kind in every tuple), becomes one column per field. A
 * number column is an Int32Array where every value is a 32-bit integer (not -0), else a Float64Array (-0
 * and NaN included: every number comes back as it was); integer fields, the common case, take half the
 * bytes. A string column, and a column of such objects, is the JSON of the column's values (native, exact
 * for every string, lone surrogates included, and for the objects `isJsonExact` accepts).
 *
 * Which columns are float is guessed from the batches of the same shape seen before (`floatMask`, which
 * only grows): the batch is written in one pass straight into its final bytes, and only a batch that
 * proves a guess wrong (a fraction in an int32 column) is written again, wider.
 *
 * Reading the fields of a thousand objects through a loop over their names would go through V8's
 * megamorphic property lookup; instead each shape (and float mask) gets a small function compiled once
 * (`new Function`) that reads `t.key`, `t.cpu`, … by name, as hand-written code would. The names are
 * embedded with JSON.stringify, so any string is a safe literal.
 */

/** The keys of a batch's shape; `null` when every tuple is a bare number or string. */
export type Shape = readonly string[] | null;

/**
 * The kind of each field, from the first tuple, one letter per field: 'n' (number), 's' (string) or 'j' (a
 * plain object that JSON gives back exactly, see isJsonExact). A bare tuple is 'n' or 's'.
 */
export type Kinds = string;

/**
 * Writes number field j of tuple i at `f64[base[j] + i]` or `i32[base[j] + i]` (both views of the same
 * bytes), string field j at `strs[j][i]`; returns how many tuples fit the shape and kinds (all of them:
 * `n`) and leaves in `base[fields]` the int32 columns that met a value that is not an int32 (as bits).
 */
export type Gather = (
  tuples: readonly unknown[],
  n: number,
  f64: Float64Array,
  i32: Int32Array,
  base: Int32Array,
  strs: unknown[][],
) => number;
/** Builds `n` tuples from the columns. */
type Scatter = (cols: readonly ArrayLike<unknown>[], n: number) => unknown[];

/** What the codec needs of a shape, computed once. */
export interface CompiledShape {
  readonly shape: Shape;
  readonly kinds: Kinds;
  readonly fields: number;
  /** How many fields are written as JSON (strings and 'j' objects): none, and the batch is all numbers. */
  readonly jsonFields: number;
  /** The JSON of the shape, UTF-8. */
  readonly names: Uint8Array;
  /** Columns (bits) written as float64; the rest as int32. */
  floatMask: number;
  /** The batch header for `headMask` (see batch-codec.ts), kept for the next batch. */
  head?: Uint8Array;
  headMask?: number;
  gather(mask: number): Gather;
}

/** More fields than this go to the CBOR path (one bit per field in a mask). */
export const MAX_FIELDS = 31;

/**
 * Shapes compiled so far. A stream whose keys are data (`{ [user]: n }`) would make a new shape every
 * batch: past this many, new shapes go through CBOR and decode without a compiled function, so neither
 * time nor memory grows with them.
 */
export const MAX_SHAPES = 256;

const compiled = new Map<string, CompiledShape>();
const scatters = new Map<string, Scatter>();
const utf8 = new TextEncoder();

/** The shape and kinds the first tuple suggests, or undefined if the batch cannot be columns. */
export function shapeOf(first: unknown): CompiledShape | undefined {
  const bare = kindOf(first);
  if (bare !== undefined) return compiledShape(null, bare);
  if (typeof first !== 'object' || first === null || Object.getPrototypeOf(first) !== Object.prototype) {
    return undefined;
  }
  const keys = Object.keys(first);
  if (keys.length === 0 || keys.length > MAX_FIELDS || keys.includes('__proto__')) return undefined;
  let kinds = '';
  for (const k of keys) {
    const kind = fieldKindOf((first as Record<string, unknown>)[k]);
    if (kind === undefined) return undefined;
    kinds += kind;
  }
  return compiledShape(keys, kinds);
}

/** Tuples of a shape that was not compiled (past MAX_SHAPES): one object at a time, by name. */
function scatterSlowly(shape: Shape): Scatter {
  return (cols, n) => {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      if (shape === null) {
        out[i] = cols[0]![i];
        continue;
      }
      const t: Record<string, unknown> = {};
      for (let j = 0; j < shape.length; j++) t[shape[j]!] = cols[j]![i];
      out[i] = t;
    }
    return out;
  };
}

function kindOf(v: unknown): 'n' | 's' | undefined {
  return typeof v === 'number' ? 'n' : typeof v === 'string' ? 's' : undefined;
}

function fieldKindOf(v: unknown): 'n' | 's' | 'j' | undefined {
  return kindOf(v) ?? (isJsonExact(v) ? 'j' : undefined);
}

/** Nesting that isJsonExact follows (a deeper object, or a cycle, goes to the CBOR path). */
const JSON_DEPTH = 4;

/**
 * True for a plain object that `JSON.parse(JSON.stringify(v))` gives back as it is: its values strings,
 * booleans, null, finite numbers other than -0, or such plain objects (a few levels deep). Not arrays
 * (holes and extra keys would need a walk of their own), nothing JSON would drop or change (undefined, a
 * function, NaN, a Date).
 */
export function isJsonExact(v: unknown, depth = 0): boolean {
  if (typeof v !== 'object' || v === null || depth === JSON_DEPTH) return false;
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k in v) {
    const e = (v as Record<string, unknown>)[k];
    const t = typeof e;
    if (t === 'string' || t === 'boolean' || e === null) continue;
    if (t === 'number') {
      if (!Number.isFinite(e) || Object.is(e, -0)) return false;
    } else if (!isJsonExact(e, depth + 1)) return false;
  }
  return true;
}

function compiledShape(shape: Shape, kinds: Kinds): CompiledShape | undefined {
  const key = `${kinds}\u0000${shape === null ? '' : shape.join('\u0000')}`;
  let c = compiled.get(key);
  if (!c) {
    if (compiled.size >= MAX_SHAPES) return undefined;
    const gathers = new Map<number, Gather>();
    c = {
      shape,
      kinds,
      jsonFields: kinds.length - (kinds.split('n').length - 1),
      fields: shape === null ? 1 : shape.length,
      names: utf8.encode(JSON.stringify(shape)),
      floatMask: 0,
      gather(mask) {
        let g = gathers.get(mask);
        if (!g) {
          g = compileGather(shape, kinds, mask);
          gathers.set(mask, g);
        }
        return g;
      },
    };
    compiled.set(key, c);
  }
  return c;
}

export function scatterFor(shape: Shape): Scatter {
  const key = shape === null ? '' : shape.join('\u0000');
  let s = scatters.get(key);
  if (!s) {
    if (scatters.size >= MAX_SHAPES) return scatterSlowly(shape);
    s = compileScatter(shape);
    scatters.set(key, s);
  }
  return s;
}

function compileGather(shape: Shape, kinds: Kinds, mask: number): Gather {
  const fields = shape === null ? 1 : shape.length;
  const check = (v: string, j: number) =>
    kinds[j] === 'j' ? `!isJsonExact(${v})` : `typeof ${v} !== "${kinds[j] === 's' ? 'string' : 'number'}"`;
  const lines: string[] = ['let wide = 0;'];
  for (let j = 0; j < fields; j++) {
    lines.push(kinds[j] !== 'n' ? `const s${j} = strs[${j}];` : `const b${j} = base[${j}];`);
  }
  lines.push('for (let i = 0; i < n; i++) {');
  if (shape === null) {
    lines.push(`  const v0 = tuples[i]; if (${check('v0', 0)}) return i;`);
  } else {
    // A plain object like the first tuple, and no other keys: the columns would drop them.
    lines.push('  const t = tuples[i];');
    lines.push('  if (typeof t !== "object" || t === null || t.constructor !== Object) return i;');
    lines.push(`  let k = 0; for (const _ in t) k++; if (k !== ${fields}) return i;`);
    shape.forEach((name, j) => {
      lines.push(`  const v${j} = t[${JSON.stringify(name)}]; if (${check(`v${j}`, j)}) return i;`);
    });
  }
  for (let j = 0; j < fields; j++) {
    const v = `v${j}`;
    if (kinds[j] !== 'n') lines.push(`  s${j}[i] = ${v};`);
    else if ((mask >>> j) & 1) lines.push(`  f64[b${j} + i] = ${v};`);
    else {
      lines.push(`  i32[b${j} + i] = ${v};`);
      lines.push(`  if ((${v} | 0) !== ${v} || (${v} === 0 && 1 / ${v} < 0)) wide |= ${1 << j};`);
    }
  }
  lines.push('}');
  lines.push(`base[${fields}] = wide;`);
  lines.push('return n;');
  const params = ['tuples', 'n', 'f64', 'i32', 'base', 'strs'];
  const make = new Function(
    'isJsonExact',
    `return function (${params.join(', ')}) {\n${lines.join('\n')}\n};`,
  );
  return make(isJsonExact) as Gather;
}

function compileScatter(shape: Shape): Scatter {
  const lines: string[] = ['const out = new Array(n);'];
  if (shape === null) {
    lines.push('const c0 = cols[0]; for (let i = 0; i < n; i++) out[i] = c0[i];');
  } else {
    for (let j = 0; j < shape.length; j++) lines.push(`const c${j} = cols[${j}];`);
    const fields = shape.map((name, j) => `${JSON.stringify(name)}: c${j}[i]`).join(', ');
    // One object literal: every decoded tuple gets the same hidden class, as the originals had.
    lines.push(`for (let i = 0; i < n; i++) out[i] = { ${fields} };`);
  }
  lines.push('return out;');
  return new Function('cols', 'n', lines.join('\n')) as Scatter;
}
