/**
 * Group commit for synced writes: while one synced batch is being written (an fsync, milliseconds), the
 * writes that arrive queue up and go out together as the next batch, one fsync for all of them. Each
 * caller's promise resolves once the batch holding its operations is durable. A batch is atomic in
 * LevelDB, and every caller's operations stay within one batch, so what each caller wrote together is
 * still all-or-nothing.
 */
export class GroupCommit<Op> {
  private queued: Op[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing = false;

  constructor(private readonly writeBatch: (ops: Op[]) => Promise<void>) {}

  write(ops: Op[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push(...ops);
      this.waiters.push({ resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.waiters.length > 0) {
      const ops = this.queued;
      const waiters = this.waiters;
      this.queued = [];
      this.waiters = [];
      try {
        await this.writeBatch(ops);
        for (const w of waiters) w.resolve();
      } catch (e) {
        for (const w of waiters) w.reject(e);
      }
    }
    this.writing = false;
  }
}
