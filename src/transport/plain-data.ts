import { isWellFormed } from '../core/strings.ts';

/**
 * What a tuple (or a state value) may hold so that cbor-x gives it back as it was: plain objects, arrays,
 * Map, Set, Date, typed arrays, and primitives other than symbols. Anything else would be encoded as
 * something else (a class instance as a plain object, losing its methods) or not at all (a function, a
 * symbol, a cycle): found here, with the path to it, before it is encoded.
 */

/** Classes that cbor-x encodes with a tag and decodes as the same class. */
const KEPT_CLASSES: readonly (abstract new (...args: never[]) => unknown)[] = [
  Map,
  Set,
  Date,
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

/** Where a value is not plain data: a path like `.readings[3].at` and what was found there. */
export interface NotPlainData {
  readonly path: string;
  readonly found: string;
}

/**
 * What the walk notes besides data that is not plain: plain data that cbor-x encodes without complaint
 * but gives back altered, a -0 (written as the integer 0), a string, object key or Map key that is not
 * well-formed UTF-16 (a lone surrogate: CBOR text is UTF-8, so it comes back as U+FFFD), an own key
 * `__proto__` (which cbor-x renames `__proto_`, against prototype pollution), or a hole in an array (which
 * comes back as an element holding undefined).
 */
export interface CborFidelity {
  altered: boolean;
}

/**
 * Returns the first place in `value` that cbor-x would not give back as it is, or undefined; with
 * `fidelity`, also notes there whether plain data would come back altered (the same walk).
 */
export function findNotPlainData(value: unknown, fidelity?: CborFidelity): NotPlainData | undefined {
  // Nearly every value is plain: a check that builds no paths (a string per field) goes first, the walk
  // that names the place only when there is one to name.
  if (isPlain(value, [], fidelity)) return undefined;
  return walk(value, '', new Set());
}

/** `walk` without the paths: true where walk finds nothing. `open` holds the objects being walked. */
function isPlain(v: unknown, open: object[], fidelity: CborFidelity | undefined): boolean {
  const t = typeof v;
  if (t === 'number') {
    if (v === 0 && 1 / v < 0 && fidelity) fidelity.altered = true;
    return true;
  }
  if (t === 'string') {
    if (fidelity && !isWellFormed(v as string)) fidelity.altered = true;
    return true;
  }
  if (t === 'function' || t === 'symbol') return false;
  if (t !== 'object' || v === null) return true;
  const o = v as object;
  if (open.includes(o)) return false;
  const proto = Object.getPrototypeOf(o);
  let plain = true;
  open.push(o);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(o);
    for (let i = 0; i < keys.length && plain; i++) {
      const k = keys[i]!;
      if (fidelity && (k === '__proto__' || !isWellFormed(k))) fidelity.altered = true;
      plain = isPlain((o as Record<string, unknown>)[k], open, fidelity);
    }
  } else if (Array.isArray(o)) {
    for (let i = 0; i < o.length && plain; i++) {
      if (fidelity && !(i in o)) fidelity.altered = true; // a hole: cbor-x writes it as undefined
      plain = isPlain(o[i], open, fidelity);
    }
  } else if (o instanceof Map) {
    for (const [k, e] of o) {
      plain = isPlain(k, open, fidelity) && isPlain(e, open, fidelity);
      if (!plain) break;
    }
  } else if (o instanceof Set) {
    for (const e of o) {
      plain = isPlain(e, open, fidelity);
      if (!plain) break;
    }
  } else plain = KEPT_CLASSES.some((c) => proto === c.prototype);
  open.pop();
  return plain;
}

function walk(v: unknown, path: string, ancestors: Set<object>): NotPlainData | undefined {
  const t = typeof v;
  if (t === 'function') return { path, found: `a function (${(v as () => void).name || 'anonymous'})` };
  if (t === 'symbol') return { path, found: 'a symbol' };
  if (t !== 'object' || v === null) return undefined;
  const o = v as object;
  if (ancestors.has(o)) return { path, found: 'a cycle (an object that contains itself)' };
  const proto = Object.getPrototypeOf(o);
  let inner: NotPlainData | undefined;
  ancestors.add(o);
  if (proto === Object.prototype || proto === null) {
    for (const k of Object.keys(o)) {
      inner = walk((o as Record<string, unknown>)[k], `${path}.${k}`, ancestors);
      if (inner) break;
    }
  } else if (Array.isArray(o)) {
    for (let i = 0; i < o.length && !inner; i++) inner = walk(o[i], `${path}[${i}]`, ancestors);
  } else if (o instanceof Map) {
    for (const [k, e] of o) {
      inner = walk(k, `${path}.<key>`, ancestors) ?? walk(e, `${path}.get(${String(k)})`, ancestors);
      if (inner) break;
    }
  } else if (o instanceof Set) {
    for (const e of o) {
      inner = walk(e, `${path}.<element>`, ancestors);
      if (inner) break;
    }
  } else if (!KEPT_CLASSES.some((c) => proto === c.prototype)) {
    const name = (proto?.constructor as { name?: string } | undefined)?.name;
    inner = { path, found: `an instance of ${name || 'a class'}` };
  }
  ancestors.delete(o);
  return inner;
}
