/** Runs `next` after `value` settles, without a promise when `value` is not one (the common case). */
export function andThen<T>(value: void | Promise<void>, next: () => T | Promise<T>): T | Promise<T> {
  if (isPromise(value)) return value.then(next);
  return next();
}

export function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function';
}
