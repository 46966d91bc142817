/**
 * Runs `op`, calling `onSlow(ms)` every `afterMs` while it is pending; `slow`: whether it did. A call to a
 * server that is paused or swamped neither fails nor returns: this is how it gets reported (the Redis
 * outputs and inputs, the Redis snapshot store).
 */
export async function watchSlow<T>(
  op: () => Promise<T>,
  afterMs: number,
  onSlow: (ms: number) => void,
): Promise<{ value: T; slow: boolean }> {
  const started = Date.now();
  let slow = false;
  const timer = setInterval(() => {
    slow = true;
    onSlow(Date.now() - started);
  }, afterMs).unref();
  try {
    return { value: await op(), slow };
  } finally {
    clearInterval(timer);
  }
}
