import { SluiceError } from '../core/errors.ts';

/**
 * A tuple that an encoded batch could not give back as it was (a class instance, a function, a symbol, a
 * cycle). The channel that keeps the batch for replay, or sends it to another thread, adds the stream
 * (`inStream`) and fails the producing operator with it: replaying or delivering something else than
 * what was sent would be a silent corruption.
 */
export class TupleNotEncodableError extends SluiceError {
  /** A replay sends the same tuple again: restarting cannot help (the run ends with this message). */
  readonly restartable = false;
  constructor(
    /** Index of the tuple in its batch (-1: not known). */
    readonly index: number,
    /** Path of the offending value inside the tuple ('' for the tuple itself). */
    readonly path: string,
    readonly found: string,
    options?: { cause?: unknown },
    readonly stream?: string,
  ) {
    super(
      'SLUICE_TUPLE_NOT_ENCODABLE',
      `${stream === undefined ? 'a tuple' : `a tuple on stream "${stream}"`} cannot be encoded (to keep it ` +
        `for replay, or to send it to another container or node): ${path === '' ? 'the tuple' : `tuple${path}`} ` +
        `is ${found}. Tuples on such streams must be plain data (objects, arrays, Map, Set, Date, typed ` +
        'arrays, primitives other than symbols), as operator state must. Only a stream within one thread ' +
        "with replayFrom: 'sources' (the default there) carries other values.",
      options,
    );
  }

  /** The same error, naming the stream. */
  inStream(stream: string): TupleNotEncodableError {
    return new TupleNotEncodableError(this.index, this.path, this.found, { cause: this.cause }, stream);
  }
}
