import { closeSync, fstatSync, openSync } from 'node:fs';
import { InputOperator, type OperatorContext } from '../../src/index.ts';
import { checkProps } from '../props.ts';
import { LineFileTruncatedError } from './errors.ts';
import { LineReader } from './line-reader.ts';

export interface LineFileInputProps<T> {
  /** The text file (UTF-8; lines end with `\n` or `\r\n`). */
  path: string;
  /**
   * Turns a line into a tuple; a line for which it throws or returns undefined goes to the `errors` port
   * (and is counted), not to `out`. Must be deterministic. Default: the line itself.
   */
  parse?: (line: string, lineNumber: number) => T | undefined;
  /** Most lines read per emitTuples() call. Default 1024. */
  linesPerCall?: number;
  /**
   * Most lines per streaming window, on average: each window adds this many to what the input owes (kept
   * in state, so a window cut short carries the rest). Default: no limit (as fast as windows are called).
   */
  linesPerWindow?: number;
  /**
   * Keep reading as the file grows (a log being appended to): at the end, wait for more, and leave a last
   * line without its newline until the newline comes. Default false: the file is complete, and a last line
   * without a newline is a line. A file that does not exist yet is waited for.
   */
  follow?: boolean;
}

/** A line `parse` refused, on the `errors` port. */
export interface InvalidLine {
  path: string;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's start. */
  offset: number;
  text: string;
  error: string;
}

export interface LineFileState {
  /** Byte offset of the next line to read: everything before it was emitted. */
  offset: number;
  /** Lines read so far (the next line's number is `line + 1`). */
  line: number;
  /** Lines still owed under `linesPerWindow` (0 without it). */
  owed: number;
  /** Lines `parse` refused so far. */
  invalid: number;
}

/**
 * Reads a text file line by line, replayably: the byte offset of the next line, the line number and the
 * count of invalid lines are its state, so a restored instance re-reads from the checkpoint's offset and
 * emits the same lines again (the runtime cuts replayed windows where the window log says). The read-ahead
 * buffer is a transient cache of the file (LineReader).
 *
 * With several partitions, partition p of P takes lines p+1, p+1+P, … (each reads the whole file). The
 * file must only ever be appended to; a file shorter than the offset read fails the operator
 * (LineFileTruncatedError) rather than skip or repeat lines.
 */
export class LineFileInput<T = string> extends InputOperator<LineFileState, LineFileInputProps<T>> {
  readonly out = this.output<T>();
  readonly errors = this.output<InvalidLine>();
  private reader?: LineReader;
  private fd = -1;
  private partition = 0;
  private partitions = 1;

  constructor(props?: LineFileInputProps<T>) {
    super(props);
    checkProps(
      'LineFileInput',
      this.props,
      { path: 'path', parse: 'function', linesPerCall: 'positive count', linesPerWindow: 'count' },
      ['path'],
    );
  }

  override initialState(): LineFileState {
    return { offset: 0, line: 0, owed: 0, invalid: 0 };
  }

  override setup(ctx: OperatorContext): void {
    this.partition = ctx.partition;
    this.partitions = ctx.partitions;
    this.open();
  }

  override beginWindow(): void {
    if (this.props.linesPerWindow) this.state.owed += this.props.linesPerWindow;
  }

  emitTuples(): void {
    if (!this.reader && !this.open()) return;
    const s = this.state;
    const follow = this.props.follow ?? false;
    const quota = this.props.linesPerWindow ? s.owed : Number.POSITIVE_INFINITY;
    const budget = Math.min(this.props.linesPerCall ?? 1024, quota);
    let taken = 0;
    for (let read = 0; read < budget; read++) {
      const line = this.reader!.line(s.offset, !follow);
      if (!line) {
        if (follow) this.checkNotTruncated();
        break;
      }
      const start = s.offset;
      s.offset = line.next;
      s.line++;
      if ((s.line - 1) % this.partitions !== this.partition) continue;
      taken++;
      this.handle(line.text, s.line, start);
    }
    if (this.props.linesPerWindow) s.owed -= taken;
  }

  override teardown(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.reader = undefined;
  }

  private handle(text: string, lineNumber: number, offset: number): void {
    let tuple: T | undefined;
    let error = 'parse returned undefined';
    try {
      tuple = this.props.parse ? this.props.parse(text, lineNumber) : (text as T);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (tuple !== undefined) {
      this.out.emit(tuple);
      return;
    }
    this.state.invalid++;
    this.errors.emit({ path: this.props.path, line: lineNumber, offset, text, error });
  }

  /** Opens the file; false if it does not exist yet and is followed (emitTuples tries again). */
  private open(): boolean {
    try {
      this.fd = openSync(this.props.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && this.props.follow) return false;
      throw e;
    }
    this.reader = new LineReader(this.fd);
    this.checkNotTruncated();
    return true;
  }

  private checkNotTruncated(): void {
    const size = fstatSync(this.fd).size;
    if (size < this.state.offset) throw new LineFileTruncatedError(this.props.path, this.state.offset, size);
  }
}
