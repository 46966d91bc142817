/**
 * Whether this thread is inside a call the runtime made into operator code (a batch of tuples, a window's
 * start or end, an emitTuples() call) or waiting for one that returned a promise (an asynchronous
 * endWindow). A tuple emitted at any other time came from a timer, a callback or a promise of the
 * operator's own: it lands in whatever window happens to be open, and a replay would not emit it again.
 * Per thread (each worker has its own copy of this module); read once per batch, never per tuple.
 */
let depth = 0;
let awaiting = 0;

/** Who is being called: an actor, named by id, in its open window. */
export interface CallOwner {
  readonly id: string;
  readonly window: number;
}

/** A container's worker tells its supervisor here which actor it is in (read once its heartbeat stops). */
let onCall: ((owner: CallOwner | null) => void) | null = null;

/** …and counts here what a call emits, so that a long call that makes progress is not taken for a hang. */
let onProgress: (() => void) | null = null;

/**
 * …and counts in slot 0 of this shared array every tuple its actors take in from a queue: a slow operator
 * (a model call per tuple, however long, up to the heartbeat limit) working through one long batch is not
 * hung. Every tuple, not every 64th: at 64 a tuple of more than a 64th of the limit looked hung. A plain
 * store, not an atomic add: the main thread only asks whether it moved. Not the tuples a fused operator
 * gets: those come from its producer's emit, and an endless loop emitting into a fused chain must still
 * be caught.
 */
let consumedCount: Int32Array | null = null;

export function recordCalls(
  record: ((owner: CallOwner | null) => void) | null,
  progress: (() => void) | null = null,
  consumed: Int32Array | null = null,
): void {
  onCall = record;
  onProgress = progress;
  consumedCount = consumed;
  owners.length = 0;
}

/** A queued tuple was handed to an operator's input handler (one add, where a recorder listens). */
export function noteConsumed(): void {
  if (consumedCount !== null) consumedCount[0]!++;
}

/** A batch was started, or 64 more tuples emitted (ChannelWriter): never once per tuple. */
export function noteProgress(): void {
  if (onProgress !== null) onProgress();
}

/**
 * The actors being called, outermost first, while a recorder listens: a consumer run inline inside its
 * producer's emit is a nested call, and a hang there is the consumer's, not the producer's.
 */
const owners: CallOwner[] = [];

export function enterCall(owner: CallOwner): void {
  depth++;
  if (onCall !== null) {
    owners.push(owner);
    onCall(owner);
  }
}

/** The actor being called opened a window: the recorded window follows. */
export function windowOpened(owner: CallOwner): void {
  if (onCall !== null && depth > 0) {
    owners[owners.length - 1] = owner;
    onCall(owner);
  }
}

export function leaveCall(): void {
  depth--;
  if (onCall !== null) {
    owners.pop();
    onCall(owners.at(-1) ?? null);
  }
}

/** An asynchronous endWindow started: until it settles, what it emits belongs to its window. */
export function startAwaiting(): void {
  awaiting++;
}

export function stopAwaiting(): void {
  awaiting--;
}

/** Runs `fn` as a call of the runtime's into `owner` (a continuation that resumed after an await). */
export function asCall<T>(owner: CallOwner, fn: () => T): T {
  enterCall(owner);
  try {
    return fn();
  } finally {
    leaveCall();
  }
}

export function insideCall(): boolean {
  return depth > 0 || awaiting > 0;
}
