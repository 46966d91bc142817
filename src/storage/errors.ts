import { SluiceError } from '../core/errors.ts';

/** Which stored record an error is about: an actor's snapshot or window-log entry, or a metadata value. */
export type StoreRecord =
  | { kind: 'snapshot' | 'window-log'; actorId: string; window: number }
  | { kind: 'meta'; key: string };

export function describeRecord(record: StoreRecord): string {
  if (record.kind === 'meta') return `metadata value "${record.key}"`;
  const what = record.kind === 'snapshot' ? 'snapshot' : 'window-log entry';
  return `${what} of actor "${record.actorId}" at window ${record.window}`;
}

export class StoreLockedError extends SluiceError {
  constructor(
    readonly location: string,
    options?: { cause?: unknown },
  ) {
    super(
      'SLUICE_STORE_LOCKED',
      `The snapshot store at ${location} is locked: another sluice run (in this process or another one) ` +
        'is using it. Stop that run before starting this one, or give this run a different store directory.',
      options,
    );
  }
}

export class SnapshotCorruptError extends SluiceError {
  readonly actorId: string | undefined;
  readonly window: number | undefined;

  constructor(
    readonly record: StoreRecord,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'SLUICE_SNAPSHOT_CORRUPT',
      `The stored ${describeRecord(record)} is corrupt (${reason}); sluice will not decode it. ` +
        'Restore the store directory from a backup, or start the application on a fresh store.',
      options,
    );
    this.actorId = record.kind === 'meta' ? undefined : record.actorId;
    this.window = record.kind === 'meta' ? undefined : record.window;
  }
}

export class StoreClosedError extends SluiceError {
  constructor(readonly location: string) {
    super(
      'SLUICE_STORE_CLOSED',
      `The snapshot store at ${location} is not open: call open() first, and do not use it after close().`,
    );
  }
}

/** The value could not be encoded with the state codec (a function, a symbol, a cycle...). */
export class StateNotEncodableError extends SluiceError {
  constructor(
    readonly record: StoreRecord,
    options?: { cause?: unknown },
  ) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      'SLUICE_STATE_NOT_ENCODABLE',
      `Cannot encode the ${describeRecord(record)}${detail}. State must be plain data without cycles ` +
        '(objects, arrays, Map, Set, Date, bigint, Uint8Array, strings, numbers, booleans, null, undefined).',
      options,
    );
  }
}

/**
 * A state that the codec would store but not restore as it is (findUnrestorable): refused before it is
 * written, so that no store holds a checkpoint a relaunch cannot use. Restarting cannot fix it.
 */
export class StateNotRestorableError extends SluiceError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(
      'SLUICE_STATE_NOT_RESTORABLE',
      `${path} ${problem}, so no checkpoint of this state was written. Keep this.state plain data ` +
        '(objects, arrays, Map, Set, Date, bigint, typed arrays, strings, numbers, booleans, null); build ' +
        'class instances, functions and connections in setup()',
    );
  }
}

/** The store path cannot hold a store: it is a file, under a file, or not writable. */
export class StorePathError extends SluiceError {
  constructor(
    readonly location: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      'SLUICE_STORE_PATH',
      `The snapshot store directory ${location} ${problem}. Give the run a store directory it can create ` +
        'and write (sluice run --store <dir>, or the store option of launch()).',
      options,
    );
  }
}

/**
 * The store cannot be read as it was written: LevelDB refuses to open it, or what it holds contradicts
 * itself (an input operator's window log does not reach back to the checkpoint it would replay from).
 * Continuing would replay windows differently from their first pass, or from nothing at all.
 */
export class StoreDamagedError extends SluiceError {
  readonly restartable = false;
  constructor(
    readonly location: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      'SLUICE_STORE_DAMAGED',
      `the snapshot store ${location} is damaged: ${problem}. Restore it from a backup, or move it aside ` +
        'to start over on a fresh store (which reprocesses the source from its start)',
      options,
    );
  }
}
