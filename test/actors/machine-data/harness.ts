import type { Operator, OperatorContext } from '../../../src/index.ts';

/**
 * Drives one operator instance by hand (no runtime): state from initialState() or a given snapshot,
 * setup with a context, windows around fed tuples, and what each output port emitted.
 */
export function driven<O extends Operator<any, any>>(
  operator: O,
  options: { state?: unknown; windowStartMs?: number; applicationWindowCount?: number } = {},
) {
  const out = new Map<string, unknown[]>();
  const ports = operator as unknown as Record<string, unknown>;
  for (const [name, port] of Object.entries(ports)) {
    if (port && typeof port === 'object' && 'emit' in port) {
      const list: unknown[] = [];
      out.set(name, list);
      (port as { emit: (t: unknown) => void }).emit = (t) => list.push(t);
    }
  }
  const ctx = {
    operatorName: 'op',
    actorId: 'op',
    partition: 0,
    partitions: 1,
    applicationName: 'test',
    streamingWindowMs: 1000,
    applicationWindowCount: options.applicationWindowCount ?? 1,
    windowId: 0,
    windowStartMs: options.windowStartMs ?? 0,
    epoch: 1,
    wake: () => {},
  } satisfies OperatorContext;
  operator.state = (options.state ?? operator.initialState()) as O['state'];
  operator.setup(ctx);
  return {
    operator,
    ctx,
    feed(port: string, tuple: unknown) {
      (ports[port] as { handler: (t: unknown) => void }).handler(tuple);
    },
    /** beginWindow(w), body, endWindow(). */
    window(w: number, body: () => void) {
      ctx.windowId = w;
      operator.beginWindow(w);
      body();
      operator.endWindow();
    },
    emitted<T>(port: string): T[] {
      return out.get(port) as T[];
    },
  };
}
