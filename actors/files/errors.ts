import { SluiceError } from '../../src/index.ts';

/** A file the line input reads got shorter than the offset it had read to (truncated or replaced). */
export class LineFileTruncatedError extends SluiceError {
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly size: number,
  ) {
    super(
      'SLUICE_LINE_FILE_TRUNCATED',
      `${path}: the file is ${size} bytes but ${offset} were already read: it was truncated or replaced. ` +
        'LineFileInput reads files that are only ever appended to; start on a fresh store to read a new file.',
    );
  }
}
