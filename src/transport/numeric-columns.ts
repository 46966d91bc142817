/**
 * The fast path of the batch codec: a batch whose tuples are all numbers (or all strings), or all plain
 * objects with the same keys (in the same order) and in each field a number, a string, or a small plain
 * object that JSON gives back exactly (the same kind in every tuple), becomes one column per field. A
 * number column is an Int8Array, Int16Array or Int32Array where every value is an integer that fits (not
 * -0), else a Float64Array (-0 and NaN included: every number comes back as it was): ids, percentages and
 * counts, the common fields, take one to four bytes instead of eight. A string column, and a column of
 * such objects, is text or JSON (see batch-codec.ts).
 *
 * How wide each number column is, is guessed from the batches of the same shape seen before (`widths`,
 * which only grow; a new shape starts at one byte): the batch is written in one pass straight into its
 * final bytes, and only a batch that proves a guess wrong (a value that does not fit) is written again,
 * as wide as its values need.
 *
 * Reading the fields of a thousand objects through a loop over their names would go through V8's
 * megamorphic property lookup; instead each shape (and column widths) gets a small function compiled once
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

/** Views of the same bytes, one per width a number column may have. */
export interface ColumnViews {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly i16: Int16Array;
  readonly i8: Int8Array;
}

/**
 * Bytes per value of each field: '1', '2', '4' (integers) or '8' (float64) for a number field, '-' for a
 * string or object field; one character per field.
 */
export type Widths = string;

/**
 * Writes number field j of tuple i at `base[j] + i` in the view of its width, string or object field j at
 * `strs[j][i]`; returns how many tuples fit the shape and kinds (all of them: `n`) and leaves in
 * `base[fields]` the integer columns that met a value that does not fit them (as bits).
 */
export type Gather = (
  tuples: readonly unknown[],
  n: number,
  views: ColumnViews,
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
  /** How many fields are strings or objects (value-columns.ts): none, and the batch is all numbers. */
  readonly valueFields: number;
  /** The JSON of the shape, UTF-8. */
  readonly names: Uint8Array;
  /** How wide each number column is written (only grows: see the file comment). */
  widths: Widths;
  /** The batch header for `headWidths` (see batch-codec.ts), kept for the next batch. */
  head?: Uint8Array;
  headWidths?: Widths;
  gather(widths: Widths): Gather;
}

/** More fields than this go to the CBOR path (one bit per field in the mask of columns too narrow). */
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
  // JSON keeps shapes apart that a join would not: [""] and bare values, ["a\u0000b"] and ["a", "b"].
  const key = `${kinds}|${JSON.stringify(shape)}`;
  let c = compiled.get(key);
  if (!c) {
    if (compiled.size >= MAX_SHAPES) return undefined;
    const gathers = new Map<Widths, Gather>();
    c = {
      shape,
      kinds,
      valueFields: kinds.length - (kinds.split('n').length - 1),
      fields: shape === null ? 1 : shape.length,
      names: utf8.encode(JSON.stringify(shape)),
      widths: kinds.replace(/n/g, '1').replace(/[sj]/g, '-'),
      gather(widths) {
        let g = gathers.get(widths);
        if (!g) {
          g = compileGather(shape, kinds, widths);
          gathers.set(widths, g);
        }
        return g;
      },
    };
    compiled.set(key, c);
  }
  return c;
}

export function scatterFor(shape: Shape): Scatter {
  const key = JSON.stringify(shape);
  let s = scatters.get(key);
  if (!s) {
    if (scatters.size >= MAX_SHAPES) return scatterSlowly(shape);
    s = compileScatter(shape);
    scatters.set(key, s);
  }
  return s;
}

/**
 * The widths the columns in `tooNarrow` (bits) need for every value of this batch (the others as they
 * were): the smallest integer width that holds every value, or 8 for a fraction, -0, NaN, ±Infinity or an
 * integer past int32.
 */
export function widen(c: CompiledShape, tuples: readonly unknown[], tooNarrow: number): Widths {
  let widths = '';
  for (let j = 0; j < c.fields; j++) {
    let w = Number(c.widths[j]);
    if (((tooNarrow >>> j) & 1) === 0 || Number.isNaN(w)) {
      widths += c.widths[j];
      continue;
    }
    const name = c.shape?.[j];
    for (let i = 0; i < tuples.length && w < 8; i++) {
      const t = tuples[i];
      const v = (name === undefined ? t : (t as Record<string, unknown>)[name]) as number;
      w = Math.max(w, widthOf(v));
    }
    widths += String(w);
  }
  return widths;
}

function widthOf(v: number): number {
  if (!Number.isInteger(v) || Object.is(v, -0)) return 8;
  if (v >= -128 && v <= 127) return 1;
  if (v >= -32768 && v <= 32767) return 2;
  return v >= -2147483648 && v <= 2147483647 ? 4 : 8;
}

/** Per integer width: its view, and the shift that keeps a value that fits as it is (`(v << s) >> s`). */
const INTEGER_WIDTHS: Record<string, { view: string; shift: number }> = {
  '1': { view: 'i8', shift: 24 },
  '2': { view: 'i16', shift: 16 },
  '4': { view: 'i32', shift: 0 },
};

function compileGather(shape: Shape, kinds: Kinds, widths: Widths): Gather {
  const fields = shape === null ? 1 : shape.length;
  const check = (v: string, j: number) =>
    kinds[j] === 'j' ? `!isJsonExact(${v})` : `typeof ${v} !== "${kinds[j] === 's' ? 'string' : 'number'}"`;
  const lines: string[] = ['let wide = 0;', 'const { f64, i32, i16, i8 } = views;'];
  for (let j = 0; j < fields; j++) {
    lines.push(kinds[j] !== 'n' ? `const s${j} = strs[${j}];` : `const b${j} = base[${j}];`);
  }
  lines.push('for (let i = 0; i < n; i++) {');
  if (shape === null) {
    lines.push(`  const v0 = tuples[i]; if (${check('v0', 0)}) return i;`);
  } else {
    // A plain object like the first tuple: its keys and no others (the columns would drop them), in the
    // same order (the decoded tuple is built in the shape's order, and a sink writing JSON would see it).
    lines.push('  const t = tuples[i];');
    lines.push('  if (typeof t !== "object" || t === null || t.constructor !== Object) return i;');
    lines.push(
      `  let k = 0; for (const key in t) if (key !== names[k++]) return i; if (k !== ${fields}) return i;`,
    );
    shape.forEach((name, j) => {
      lines.push(`  const v${j} = t[${JSON.stringify(name)}]; if (${check(`v${j}`, j)}) return i;`);
    });
  }
  for (let j = 0; j < fields; j++) {
    const v = `v${j}`;
    const int = INTEGER_WIDTHS[widths[j]!];
    if (kinds[j] !== 'n') lines.push(`  s${j}[i] = ${v};`);
    else if (int === undefined) lines.push(`  f64[b${j} + i] = ${v};`);
    else {
      // A fraction, NaN or a value out of range changes when cut to the width; -0 becomes 0.
      const cut = int.shift === 0 ? `(${v} | 0)` : `((${v} << ${int.shift}) >> ${int.shift})`;
      lines.push(`  ${int.view}[b${j} + i] = ${v};`);
      lines.push(`  if (${cut} !== ${v} || (${v} === 0 && 1 / ${v} < 0)) wide |= ${1 << j};`);
    }
  }
  lines.push('}');
  lines.push(`base[${fields}] = wide;`);
  lines.push('return n;');
  const params = ['tuples', 'n', 'views', 'base', 'strs'];
  const make = new Function(
    'isJsonExact',
    'names',
    `return function (${params.join(', ')}) {\n${lines.join('\n')}\n};`,
  );
  return make(isJsonExact, shape ?? []) as Gather;
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
