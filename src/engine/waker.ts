/** Lets the scheduler sleep until a timer fires or something asynchronous finishes (`wake()`). */
export class Waker {
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => this.wake(), Math.max(0, ms));
    });
  }

  wake(): void {
    const r = this.resolve;
    if (!r) return;
    this.resolve = undefined;
    clearTimeout(this.timer);
    r();
  }
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
