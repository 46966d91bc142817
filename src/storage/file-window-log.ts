import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/*
 * The input operators' window log as append-only files, written synchronously by the thread that runs
 * the input (a container's worker too), so an END marker waits for one small write(2) instead of a round
 * trip to the thread that owns LevelDB (on 2 busy cores that round trip cost ~1.3 ms a window and was the
 * largest cost of a stream across containers). Durable as an unsynced LevelDB put: in the page cache,
 * so it survives a process kill, not a power cut.
 *
 *   <dir>/<actor id, URI-encoded>/<segment, 12 digits>.wlog   records: window (float64), length (uint32), frame
 *   <dir>/<actor id, URI-encoded>/floor                        entries below it are deleted
 *
 * A writer starts a new segment when it opens an actor's log and after every SEGMENT_RECORDS records;
 * readers take every segment in order, the last record of a window winning (an entry replaces an
 * earlier one). Deleting below w writes the floor, then removes whole segments under it except the
 * newest (which a writer in another thread may be appending to). A torn record at a segment's end (a
 * crash mid-write) is ignored; the frame's own checksum catches anything else.
 */

const SEGMENT_RECORDS = 256;
const HEAD = 12;
const SEGMENT = /^(\d{12})\.wlog$/;

interface Writer {
  fd: number;
  records: number;
  segment: number;
}

export class FileWindowLog {
  private readonly writers = new Map<string, Writer>();
  /** Floors this instance wrote or read: a commit of thousands of input operators reads none again. */
  private readonly floors = new Map<string, number>();

  constructor(readonly dir: string) {}

  /** Appends window `window`'s entry (a sealed frame) before it returns. */
  append(actorId: string, window: number, frame: Uint8Array): void {
    let w = this.writers.get(actorId);
    if (w === undefined || w.records >= SEGMENT_RECORDS) w = this.startSegment(actorId, w);
    // One write(2) per record: a kill leaves a whole record or a torn tail, never a gap.
    const record = Buffer.allocUnsafe(HEAD + frame.length);
    record.writeDoubleBE(window, 0);
    record.writeUInt32BE(frame.length, 8);
    record.set(frame, HEAD);
    writeAll(w.fd, record);
    w.records++;
  }

  /** Entries with from <= window <= to, ascending; the newest record of a window wins. */
  read(actorId: string, from: number, to: number): Array<[number, Uint8Array]> {
    const dir = this.actorDir(actorId);
    const floor = Math.max(from, readFloor(dir));
    const byWindow = new Map<number, Uint8Array>();
    for (const segment of segments(dir)) {
      for (const [window, frame] of records(readFileSync(join(dir, segmentName(segment))))) {
        if (window >= floor && window <= to) byWindow.set(window, frame);
      }
    }
    return [...byWindow].sort((a, b) => a[0] - b[0]);
  }

  /** Deletes the entries below `w`. */
  deleteBelow(actorId: string, w: number): void {
    const dir = this.actorDir(actorId);
    let floor = this.floors.get(actorId);
    if (floor === undefined) this.floors.set(actorId, (floor = readFloor(dir)));
    if (floor >= w) return;
    const all = segments(dir);
    if (all.length === 0) return;
    writeFloor(dir, w);
    this.floors.set(actorId, w);
    for (const segment of all.slice(0, -1)) {
      const path = join(dir, segmentName(segment));
      let newest = Number.NEGATIVE_INFINITY;
      for (const [window] of records(readFileSync(path))) newest = Math.max(newest, window);
      if (newest < w) unlinkSync(path);
    }
  }

  /** Closes this writer's files (the entries stay). */
  close(): void {
    for (const w of this.writers.values()) closeSync(w.fd);
    this.writers.clear();
  }

  private startSegment(actorId: string, previous: Writer | undefined): Writer {
    if (previous !== undefined) closeSync(previous.fd);
    const dir = this.actorDir(actorId);
    mkdirSync(dir, { recursive: true });
    let segment = (previous?.segment ?? segments(dir).at(-1) ?? 0) + 1;
    // 'wx': a segment is never appended to by two writers (a second one takes the next).
    let fd: number | undefined;
    while (fd === undefined) {
      try {
        fd = openSync(join(dir, segmentName(segment)), 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        segment++;
      }
    }
    const w = { fd, records: 0, segment };
    this.writers.set(actorId, w);
    return w;
  }

  private actorDir(actorId: string): string {
    return join(this.dir, encodeURIComponent(actorId));
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

function segmentName(segment: number): string {
  return `${segment.toString().padStart(12, '0')}.wlog`;
}

/** The actor's segments, oldest first. */
function segments(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const found: number[] = [];
  for (const name of names) {
    const m = SEGMENT.exec(name);
    if (m) found.push(Number(m[1]));
  }
  return found.sort((a, b) => a - b);
}

/**
 * The floor is overwritten in place, always the same width, by one write(2): a kill cannot tear it (as a
 * record), and nothing is created or renamed (a temporary file and a rename per input operator and
 * commit cost ~0.5 ms each: seconds per commit with thousands of input partitions).
 */
function writeFloor(dir: string, w: number): void {
  const fd = openSync(join(dir, 'floor'), constants.O_WRONLY | constants.O_CREAT, 0o644);
  try {
    writeAll(fd, Buffer.from(String(w).padStart(FLOOR_WIDTH, '0')));
  } finally {
    closeSync(fd);
  }
}

/** Digits of a floor: every safe integer fits, so a new floor always covers the old one. */
const FLOOR_WIDTH = 16;

function readFloor(dir: string): number {
  try {
    const floor = Number(readFileSync(join(dir, 'floor'), 'utf8'));
    return Number.isSafeInteger(floor) ? floor : 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/** A segment's complete records; a torn one at the end (a crash mid-write) ends it. */
function* records(bytes: Buffer): Generator<[number, Uint8Array]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + HEAD <= bytes.length) {
    const window = view.getFloat64(at);
    const length = view.getUint32(at + 8);
    if (at + HEAD + length > bytes.length) return;
    yield [window, new Uint8Array(bytes.buffer, bytes.byteOffset + at + HEAD, length)];
    at += HEAD + length;
  }
}
