/**
 * Drives a RedisAverageOutput instance by hand through its lifecycle (setup, windows, teardown) against
 * a real Redis, as the runtime would: the tests then choose epochs, windows and when Redis goes away.
 */
import { RedisAverageOutput, type RedisAverageOutputProps } from '../../actors/index.ts';
import type { AverageRecord } from '../../actors/machine-data/types.ts';
import type { OperatorContext } from '../../src/index.ts';

export type MutableContext = { -readonly [K in keyof OperatorContext]: OperatorContext[K] };

export function context(epoch: number, actorId = 'averages-out'): MutableContext {
  return {
    operatorName: 'averages-out',
    actorId,
    partition: 0,
    partitions: 1,
    applicationName: 'redis-test',
    streamingWindowMs: 10,
    applicationWindowCount: 1,
    windowId: 0,
    windowStartMs: 0,
    epoch,
    wake: () => {},
  };
}

export interface DrivenOutput {
  op: RedisAverageOutput;
  ctx: MutableContext;
  /** Runs window w with these records through beginWindow, the input port and endWindow. */
  window(w: number, records: AverageRecord[]): Promise<void>;
}

export async function startOutput(
  props: RedisAverageOutputProps,
  epoch: number,
  stopSignal?: AbortSignal,
): Promise<DrivenOutput> {
  const op = new RedisAverageOutput(props);
  op.state = op.initialState();
  const ctx = { ...context(epoch), stopSignal };
  await op.setup(ctx);
  return {
    op,
    ctx,
    async window(w, records) {
      ctx.windowId = w;
      op.beginWindow();
      for (const r of records) op.in.handler(r);
      await op.endWindow();
    },
  };
}

export function record(key: string, window: number, cpu: number): AverageRecord {
  return { key, fields: { device: 1 }, day: 20_000, minute: 1, window, cpu, ram: cpu / 2, hdd: 10, count: 3 };
}
