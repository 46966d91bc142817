import { CHANGE_TRACKER, DurableMap, GROUPS, keyHashOf } from '../api/durable-map.ts';
import { isWellFormed } from '../core/strings.ts';
import { MapTracker } from './map-tracker.ts';

/*
 * Does a value come back from the state codec (codec.ts) as it was? cbor-x encodes what it does not know
 * as something else without complaint: a class instance becomes a plain object (its methods gone), a Map
 * subclass an array, an ArrayBuffer a Buffer, a getter its value, a symbol key nothing, an object reachable
 * twice two copies. Such a checkpoint is written fine and every relaunch from it then fails or behaves
 * differently ("inc is not a function"). This walk finds the first such value and names its path as a
 * JavaScript expression (`state.byDevice.get("d7").handler`), before anything is written.
 *
 * Checked against the codec (test/storage/round-trip-check.test.ts): what is accepted below round-trips.
 * Accepted: plain objects (prototype Object.prototype; a null-prototype one is refused: it would come back
 * with Object.prototype, where a key such as "toString" reads an inherited function), arrays without holes, the classes in CONTAINERS and LEAVES, strings that are
 * well-formed UTF-16, numbers (NaN and ±Infinity included; -0 comes back as 0), bigints, booleans, null
 * and undefined. An object reachable twice (not only in a cycle) is refused too: it would come back as two
 * copies that no longer change together (a Set of the objects walked; the whole walk runs once per
 * instance). Not refused, for speed: a getter is stored as its value; a non-enumerable property, or a
 * named property of an array, is not stored (finding one in an array means listing all its indexes).
 *
 * Depth first and allocation-free per value: the path is kept on a stack and printed only when something
 * is wrong; a cycle is an object that is its own ancestor on that stack.
 */

/** How a child hangs off its parent: `.key`, `[index]`, `.get(key)`, a Map's key, a Set's element. */
type Kind = 'prop' | 'index' | 'get' | 'key' | 'element';

/** Walks a container's children; stops when `visit` returns false (found, or out of budget). */
type Walk = (value: any, visit: Visit) => void;
type Visit = (child: unknown, kind: Kind, key: unknown, index: number) => boolean;

const walkMap: Walk = (map: Map<unknown, unknown>, visit) => {
  let index = 0;
  for (const [key, value] of map) {
    if (!visit(key, 'key', undefined, index) || !visit(value, 'get', key, index)) return;
    index++;
  }
};

/**
 * A DurableMap restored from key groups (and not given a new base since) holds, outside the keys its
 * tracker saw change, only what the codec decoded: those come back as they were, so only the keys of
 * changed buckets are walked (an unbuilt group is not built for it). Otherwise every built group is walked, with
 * the Maps' own iterators.
 */
const walkDurableMap: Walk = (map: DurableMap<unknown, unknown>, visit) => {
  let index = 0;
  const tracker = map[CHANGE_TRACKER];
  const groups = map[GROUPS].maps;
  if (tracker instanceof MapTracker && tracker.decodedGeneration === tracker.generation) {
    const dirty = tracker.dirty;
    for (let g = 0; g < groups.length; g++) {
      const m = groups[g];
      if (m === undefined || !dirty.inGroup(g)) continue;
      for (const [key, value] of m) {
        if (!dirty.has(g, keyHashOf(key))) continue;
        if (!visit(key, 'key', undefined, index) || !visit(value, 'get', key, index)) return;
        index++;
      }
    }
    return;
  }
  for (const m of groups) {
    if (m === undefined) continue;
    for (const [key, value] of m) {
      if (!visit(key, 'key', undefined, index) || !visit(value, 'get', key, index)) return;
      index++;
    }
  }
};

const walkSet: Walk = (set: Set<unknown>, visit) => {
  let index = 0;
  for (const element of set) if (!visit(element, 'element', undefined, index++)) return;
};

/**
 * Classes the codec restores as themselves, with how to walk what they hold. Accepting another class is
 * one line here (its constructor, exactly: a subclass is not accepted by its base's entry).
 */
const CONTAINERS = new Map<Function, Walk>([
  [Map, walkMap],
  [Set, walkSet],
  [DurableMap, walkDurableMap],
]);

/** Classes the codec restores as themselves that hold nothing to check. */
const LEAVES = new Set<Function>([
  Date,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
]);

/** The first value that would not come back as it was: where, and what is wrong with it. */
export interface Unrestorable {
  path: string;
  problem: string;
}

export interface FindOptions {
  /** What the value is called in paths (default 'state'). */
  root?: string;
  /**
   * Look at no more than this many values, and no more than `width` children of any one object: a cheap
   * sample of the top of a large state. Default: all of it (once per actor and run).
   */
  budget?: number;
  width?: number;
}

/** The first value in `value` that would not round-trip through the state codec, or undefined. */
export function findUnrestorable(value: unknown, options: FindOptions = {}): Unrestorable | undefined {
  const walker = new Walker(options);
  try {
    walker.visit(value, 'index', undefined, -1);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return { path: options.root ?? 'state', problem: 'is nested too deeply to store' };
  }
  return walker.found;
}

class Walker {
  found: Unrestorable | undefined;
  private readonly root: string;
  private left: number;
  private readonly width: number;
  /** The path to the value being looked at, one entry per level (the root's entry is ignored). */
  private readonly values: unknown[] = [];
  private readonly kinds: Kind[] = [];
  private readonly keys: unknown[] = [];
  private readonly indexes: number[] = [];
  private depth = 0;
  /** Every object met so far: one met twice is shared. */
  private readonly seen = new Set<object>();

  constructor(options: FindOptions) {
    this.root = options.root ?? 'state';
    this.left = options.budget ?? Number.POSITIVE_INFINITY;
    this.width = options.width ?? Number.POSITIVE_INFINITY;
  }

  /** Checks one value and what it holds; false once the walk should stop. */
  readonly visit: Visit = (child, kind, key, index) => {
    if (this.found || this.left-- <= 0) return false;
    const type = typeof child;
    if (type !== 'object' || child === null) {
      const problem = primitiveProblem(child, type);
      if (problem === undefined) return true;
      this.push(child, kind, key, index);
      this.report(problem);
      return false;
    }
    const object = child as object;
    const ancestor = this.ancestor(object);
    this.push(object, kind, key, index);
    const problem =
      ancestor >= 0
        ? `refers back to ${this.pathTo(ancestor + 1)}, which contains it (a cycle cannot be stored)`
        : this.seen.has(object)
          ? 'is the same object as one met earlier in the state (a shared reference comes back as two separate copies, and a change to one no longer shows in the other): keep one and refer to it by a key'
          : this.objectProblem(object);
    this.seen.add(object);
    if (problem !== undefined) this.report(problem);
    this.depth--;
    return this.found === undefined;
  };

  private push(value: unknown, kind: Kind, key: unknown, index: number): void {
    const d = this.depth++;
    this.values[d] = value;
    this.kinds[d] = kind;
    this.keys[d] = key;
    this.indexes[d] = index;
  }

  private report(problem: string): void {
    this.found ??= { path: this.pathTo(this.depth), problem };
  }

  /** The path of the first `depth` entries of the stack. */
  private pathTo(depth: number): string {
    let path = this.root;
    for (let d = 1; d < depth; d++) path = extend(path, this.kinds[d]!, this.keys[d], this.indexes[d]!);
    return path;
  }

  /** Where `object` is on the current path, or -1. */
  private ancestor(object: object): number {
    for (let d = 0; d < this.depth; d++) if (this.values[d] === object) return d;
    return -1;
  }

  private objectProblem(value: object): string | undefined {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype) return this.plainObjectProblem(value);
    if (proto === null) {
      return 'is an object with a null prototype (Object.create(null)): it would come back as an ordinary object, whose inherited keys ("toString", "constructor") then read as present; keep such a dictionary in a Map';
    }
    if (proto === Array.prototype && Array.isArray(value)) return this.arrayProblem(value);
    const ctor: unknown = proto?.constructor;
    if (typeof ctor === 'function') {
      const walk = CONTAINERS.get(ctor);
      if (walk) {
        walk(value, this.width < Number.POSITIVE_INFINITY ? this.narrow() : this.visit);
        return undefined;
      }
      if (LEAVES.has(ctor)) return undefined;
    }
    return `is ${describeClass(value, ctor)}, which a checkpoint cannot restore as such`;
  }

  /** A visit that stops after `width` children (a sample). */
  private narrow(): Visit {
    let n = 0;
    return (child, kind, key, index) => n++ < this.width && this.visit(child, kind, key, index);
  }

  /**
   * for-in rather than property descriptors (several times faster on large or many objects): so a getter
   * is stored as its current value and a non-enumerable property is not seen (nor stored), unchecked.
   */
  private plainObjectProblem(value: object): string | undefined {
    const symbols = Object.getOwnPropertySymbols(value);
    if (symbols.length > 0) return `has a symbol key ${String(symbols[0])} (it would be dropped)`;
    let n = 0;
    for (const key in value) {
      if (key === '__proto__') return 'has an own "__proto__" key (it would not come back)';
      if (!isWellFormed(key))
        return `has a key with a lone surrogate, ${JSON.stringify(key)} (it would come back mangled)`;
      if (n++ >= this.width || !this.visit((value as Record<string, unknown>)[key], 'prop', key, 0)) break;
    }
    return undefined;
  }

  private arrayProblem(value: unknown[]): string | undefined {
    const n = Math.min(value.length, this.width);
    for (let i = 0; i < n; i++) {
      if (!(i in value)) return `has a hole at index ${i} (it would come back as undefined: fill the array)`;
      if (!this.visit(value[i], 'index', undefined, i)) return undefined;
    }
    return undefined;
  }
}

function primitiveProblem(value: unknown, type: string): string | undefined {
  if (type === 'string') {
    return isWellFormed(value as string)
      ? undefined
      : 'is a string with a lone surrogate (it would come back mangled)';
  }
  if (type === 'function') {
    const name = (value as Function).name;
    return `is a function${name ? ` (${name})` : ''}`;
  }
  if (type === 'symbol') return `is a symbol (${String(value)})`;
  return undefined;
}

function describeClass(value: object, ctor: unknown): string {
  const name = typeof ctor === 'function' && ctor.name ? ctor.name : undefined;
  for (const base of CONTAINERS.keys()) {
    if (value instanceof base) return `a ${name ?? 'subclass'} (a subclass of ${base.name})`;
  }
  if (typeof (value as { then?: unknown }).then === 'function') return 'a promise';
  if (Buffer.isBuffer(value)) return 'a Buffer (it comes back as a plain Uint8Array: store a Uint8Array)';
  return name ? `an instance of class ${name}` : 'an object with a custom prototype';
}

function extend(path: string, kind: Kind, key: unknown, index: number): string {
  switch (kind) {
    case 'prop':
      return /^[A-Za-z_$][\w$]*$/.test(key as string)
        ? `${path}.${key as string}`
        : `${path}[${JSON.stringify(key)}]`;
    case 'index':
      return `${path}[${index}]`;
    case 'get': {
      const literal = literalOf(key);
      return literal === undefined ? `[...${path}.values()][${index}]` : `${path}.get(${literal})`;
    }
    case 'key':
      return `[...${path}.keys()][${index}]`;
    case 'element':
      return `[...${path}][${index}]`;
  }
}

/** A primitive key as it would be written in source; undefined for an object key. */
function literalOf(key: unknown): string | undefined {
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'number':
      return Object.is(key, -0) ? '-0' : String(key);
    case 'bigint':
      return `${key}n`;
    case 'boolean':
      return String(key);
    case 'undefined':
      return 'undefined';
    default:
      return key === null ? 'null' : undefined;
  }
}
