import { DurableMap } from '../api/durable-map.ts';

/*
 * Does a value come back from the state codec (codec.ts) as it was? cbor-x encodes what it does not know
 * as something else without complaint: a class instance becomes a plain object (its methods gone), a Map
 * subclass an array, an ArrayBuffer a Buffer, a getter its value, a symbol key nothing, an object reachable
 * twice two copies. Such a checkpoint is written fine and every relaunch from it then fails or behaves
 * differently ("inc is not a function"). This walk finds the first such value and names its path as a
 * JavaScript expression (`state.byDevice.get("d7").handler`), before anything is written.
 *
 * Checked against the codec (test/storage/round-trip-check.test.ts): what is accepted below round-trips.
 * Accepted: plain objects (prototype Object.prototype or null), arrays without holes or extra properties,
 * the classes in CONTAINERS and LEAVES, strings that are well-formed UTF-16, numbers (NaN and ±Infinity
 * included; -0 comes back as 0), bigints, booleans, null and undefined.
 */

type Walk = (value: any, visit: (child: unknown, step: Step) => void) => void;

/** How a child hangs off its parent, to print the path only when something is wrong. */
type Step =
  | { kind: 'prop'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'get'; key: unknown; index: number }
  | { kind: 'key' | 'element'; index: number };

const walkMap: Walk = (map: Map<unknown, unknown>, visit) => {
  let index = 0;
  for (const [key, value] of map) {
    visit(key, { kind: 'key', index });
    visit(value, { kind: 'get', key, index });
    index++;
  }
};

const walkSet: Walk = (set: Set<unknown>, visit) => {
  let index = 0;
  for (const element of set) visit(element, { kind: 'element', index: index++ });
};

/**
 * Classes the codec restores as themselves, with how to walk what they hold. Accepting another class is
 * one line here (its constructor, exactly: a subclass is not accepted by its base's entry).
 */
const CONTAINERS = new Map<Function, Walk>([
  [Map, walkMap],
  [Set, walkSet],
  [DurableMap, walkMap],
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
  Buffer,
]);

/** The first value that would not come back as it was: where, and what is wrong with it. */
export interface Unrestorable {
  path: string;
  problem: string;
}

interface Item {
  value: object;
  parent: Item | undefined;
  step: Step | undefined;
}

/**
 * Walks `value` breadth-first; returns the first value that would not round-trip, or undefined. `root`
 * names the value in paths. With a `budget`, at most that many objects are looked at (a cheap sample of
 * the top of a large state); without, all of it (once per actor and run: one Set entry per object).
 */
export function findUnrestorable(
  value: unknown,
  options: { root?: string; budget?: number } = {},
): Unrestorable | undefined {
  const root = options.root ?? 'state';
  const budget = options.budget ?? Number.POSITIVE_INFINITY;
  const seen = new Map<object, Item>();
  const queue: Item[] = [];
  let found: Unrestorable | undefined;

  const at = (parent: Item | undefined, step: Step | undefined, problem: string): void => {
    found ??= { path: pathOf(root, parent, step), problem };
  };

  const look = (child: unknown, parent: Item | undefined, step: Step | undefined): void => {
    if (found) return;
    const problem = primitiveProblem(child);
    if (problem !== undefined) {
      at(parent, step, problem);
      return;
    }
    if (typeof child !== 'object' || child === null) return;
    const first = seen.get(child);
    if (first) {
      const firstPath = pathOf(root, first.parent, first.step);
      const cycle = isAncestor(first, parent);
      at(
        parent,
        step,
        cycle
          ? `refers back to ${firstPath}, which contains it (a cycle cannot be stored)`
          : `is the same object as ${firstPath} (a restore would make two separate copies of it)`,
      );
      return;
    }
    const item: Item = { value: child, parent, step };
    seen.set(child, item);
    queue.push(item);
  };

  look(value, undefined, undefined);
  for (let head = 0; head < queue.length && head < budget && !found; head++) {
    const item = queue[head]!;
    const visit = (child: unknown, step: Step) => look(child, item, step);
    const problem = objectProblem(item.value, visit);
    if (problem !== undefined) at(item.parent, item.step, problem);
  }
  return found;
}

function primitiveProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'function':
      return `is a function${value.name ? ` (${value.name})` : ''}`;
    case 'symbol':
      return `is a symbol (${String(value)})`;
    case 'string':
      // String.prototype.isWellFormed: Node 20, ES2024 (the lib here is ES2023).
      return (value as unknown as { isWellFormed(): boolean }).isWellFormed()
        ? undefined
        : 'is a string with a lone surrogate (it would come back mangled)';
    default:
      return undefined;
  }
}

/** Checks one object and visits its children; returns what is wrong with the object itself. */
function objectProblem(value: object, visit: (child: unknown, step: Step) => void): string | undefined {
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return plainObjectProblem(value, visit);
  if (Array.isArray(value) && proto === Array.prototype) return arrayProblem(value, visit);
  const ctor: unknown = proto?.constructor;
  if (typeof ctor === 'function') {
    const walk = CONTAINERS.get(ctor);
    if (walk) {
      walk(value, visit);
      return undefined;
    }
    if (LEAVES.has(ctor)) return undefined;
  }
  return `is ${describeClass(value, ctor)}, which the checkpoint codec does not restore as such`;
}

function plainObjectProblem(value: object, visit: (child: unknown, step: Step) => void): string | undefined {
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'symbol') return `has a symbol key ${String(key)} (it would be dropped)`;
    if (key === '__proto__') return 'has an own "__proto__" key (it would not come back)';
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    if (d.get || d.set) return `has a getter or setter "${key}" (only its current value would be stored)`;
    if (!d.enumerable) return `has a non-enumerable property "${key}" (it would be dropped)`;
    visit(d.value, { kind: 'prop', key });
  }
  return undefined;
}

function arrayProblem(value: unknown[], visit: (child: unknown, step: Step) => void): string | undefined {
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) return `has a hole at index ${i} (it would come back as undefined: fill the array)`;
    visit(value[i], { kind: 'index', index: i });
  }
  // Own keys are the indexes and 'length': anything more is a property the codec drops.
  const keys = Reflect.ownKeys(value);
  if (keys.length !== value.length + 1) {
    const extra = keys.find((k) => k !== 'length' && !(typeof k === 'string' && /^\d+$/.test(k)));
    return `has a property ${String(extra)} besides its elements (it would be dropped)`;
  }
  return undefined;
}

function describeClass(value: object, ctor: unknown): string {
  const name = typeof ctor === 'function' && ctor.name ? ctor.name : undefined;
  for (const base of CONTAINERS.keys()) {
    if (value instanceof base) return `a ${name ?? 'subclass'} (a subclass of ${base.name})`;
  }
  if (typeof (value as { then?: unknown }).then === 'function') return 'a promise';
  return name ? `an instance of class ${name}` : 'an object with a custom prototype';
}

function isAncestor(item: Item, of: Item | undefined): boolean {
  for (let p = of; p; p = p.parent) if (p === item) return true;
  return false;
}

function pathOf(root: string, parent: Item | undefined, step: Step | undefined): string {
  const steps: Step[] = [];
  if (step) steps.push(step);
  for (let p = parent; p?.step; p = p.parent) steps.push(p.step);
  let path = root;
  for (let i = steps.length - 1; i >= 0; i--) path = extend(path, steps[i]!);
  return path;
}

function extend(path: string, step: Step): string {
  switch (step.kind) {
    case 'prop':
      return /^[A-Za-z_$][\w$]*$/.test(step.key)
        ? `${path}.${step.key}`
        : `${path}[${JSON.stringify(step.key)}]`;
    case 'index':
      return `${path}[${step.index}]`;
    case 'get': {
      const key = literal(step.key);
      return key === undefined ? `[...${path}.values()][${step.index}]` : `${path}.get(${key})`;
    }
    case 'key':
      return `[...${path}.keys()][${step.index}]`;
    case 'element':
      return `[...${path}][${step.index}]`;
  }
}

/** A primitive key as it would be written in source; undefined for an object key. */
function literal(key: unknown): string | undefined {
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
