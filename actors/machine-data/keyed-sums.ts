/**
 * Sums and counts per (time, dimension key), for PrereqAverage, SumPartials and Average.
 *
 * The sums are state (checkpointed): `SumColumns`, one row per key seen, in order of first sight — plain
 * typed arrays, which cbor-x encodes as byte strings and decodes as the same classes. The way from a key
 * to its row is not state: `SumIndex` keeps, per time (minute of a day), an Int32Array over the dense key
 * space holding row + 1 (0: no row yet), rebuilt from the rows after a restore. So the hot path is two
 * typed-array loads and four adds per dimension tuple, and a snapshot holds only the keys seen.
 *
 * Clearing at the end of an application window empties the rows and shrinks the columns back to their
 * initial size: the snapshots between application windows stay small (the case study's advice).
 */
export interface SumColumns {
  /** Rows in use. */
  size: number;
  time: Int32Array;
  key: Int32Array;
  cpu: Float64Array;
  ram: Float64Array;
  hdd: Float64Array;
  count: Float64Array;
}

const INITIAL_ROWS = 1024;

export function newSumColumns(rows = INITIAL_ROWS): SumColumns {
  return {
    size: 0,
    time: new Int32Array(rows),
    key: new Int32Array(rows),
    cpu: new Float64Array(rows),
    ram: new Float64Array(rows),
    hdd: new Float64Array(rows),
    count: new Float64Array(rows),
  };
}

/**
 * Doubles the columns of `c`, or moves its rows into `spare` (larger, empty) if there is one: fresh memory
 * is dear (the first touch of every page is a fault; on the bench VM ~80 ms per application window for
 * the doublings from 1024 to 128 Ki rows), so the columns of the last window are reused.
 */
function grow(c: SumColumns, spare: SumColumns | undefined): void {
  const rows =
    spare !== undefined && spare.time.length > c.time.length ? spare.time.length : c.time.length * 2;
  const into = <A extends Int32Array | Float64Array>(
    a: A,
    b: A | undefined,
    make: new (n: number) => A,
  ): A => {
    const to = b !== undefined && b.length === rows ? b : new make(rows);
    to.set(a);
    return to;
  };
  const s = spare?.time.length === rows ? spare : undefined;
  c.time = into(c.time, s?.time, Int32Array);
  c.key = into(c.key, s?.key, Int32Array);
  c.cpu = into(c.cpu, s?.cpu, Float64Array);
  c.ram = into(c.ram, s?.ram, Float64Array);
  c.hdd = into(c.hdd, s?.hdd, Float64Array);
  c.count = into(c.count, s?.count, Float64Array);
}

/** The transient index over SumColumns held in an operator's state (see the file comment). */
export class SumIndex {
  private readonly slots = new Map<number, Int32Array>();
  private lastTime = -1;
  private lastSlot: Int32Array | undefined;
  /** The columns of the last window, out of the state, to grow into (see grow). */
  private spare: SumColumns | undefined;

  /** `keyCount`: the size of the dense key space if known (a key at or past it widens the index). */
  constructor(private keyCount = INITIAL_ROWS) {}

  /** Indexes rows restored from a checkpoint (call in setup: state is set before it). */
  attach(c: SumColumns): void {
    for (let row = 0; row < c.size; row++) {
      const key = c.key[row]!;
      let slot = this.slot(c.time[row]!);
      if (key >= slot.length) slot = this.widen(c.time[row]!, key);
      slot[key] = row + 1;
    }
  }

  /** The key → row + 1 array of one time. */
  slot(time: number): Int32Array {
    if (time === this.lastTime) return this.lastSlot!;
    let s = this.slots.get(time);
    if (s === undefined) {
      s = new Int32Array(this.keyCount);
      this.slots.set(time, s);
    }
    this.lastTime = time;
    this.lastSlot = s;
    return s;
  }

  private widen(time: number, key: number): Int32Array {
    const old = this.slot(time);
    this.keyCount = Math.max(key + 1, this.keyCount * 2);
    const s = new Int32Array(this.keyCount);
    s.set(old);
    this.slots.set(time, s);
    this.lastSlot = s;
    return s;
  }

  /** The row of (time, key) in `c`, added (zeroed) if new; `key` must be < the slot's length. */
  row(c: SumColumns, slot: Int32Array, time: number, key: number): number {
    const r = slot[key]!;
    if (r !== 0) return r - 1;
    if (c.size === c.time.length) {
      grow(c, this.spare);
      if (this.spare !== undefined && this.spare.time === c.time) this.spare = undefined;
    }
    const row = c.size++;
    c.time[row] = time;
    c.key[row] = key;
    c.cpu[row] = 0;
    c.ram[row] = 0;
    c.hdd[row] = 0;
    c.count[row] = 0;
    slot[key] = row + 1;
    return row;
  }

  /** Adds to (time, key), whatever its row (any key ≥ 0: the index widens to it). */
  add(c: SumColumns, time: number, key: number, cpu: number, ram: number, hdd: number, count: number): void {
    let slot = this.slot(time);
    if (key >= slot.length) slot = this.widen(time, key);
    const row = this.row(c, slot, time, key);
    c.cpu[row]! += cpu;
    c.ram[row]! += ram;
    c.hdd[row]! += hdd;
    c.count[row]! += count;
  }

  /**
   * Forgets every row of `c` and returns fresh, small columns to put in its place (the snapshots between
   * application windows stay small); large columns are kept out of the state as the spare the next window
   * grows into. Index arrays of times no longer seen are dropped (minutes pass); the newest is kept.
   */
  clear(c: SumColumns): SumColumns {
    for (let row = 0; row < c.size; row++) this.slot(c.time[row]!)[c.key[row]!] = 0;
    for (const t of [...this.slots.keys()]) if (t !== this.lastTime) this.slots.delete(t);
    if (c.time.length > INITIAL_ROWS) {
      // Rows the next window writes are zeroed in row() as they are added: the spare needs no clearing.
      this.spare = { ...c, size: 0 };
      return newSumColumns();
    }
    c.size = 0;
    return c;
  }
}
