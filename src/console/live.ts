/**
 * One WebSocket session of the console: pushes the metrics once a second and every timeline entry as it
 * happens; takes a few commands (open or close a tap, a failure drill). Every frame is JSON text of at
 * most MAX_FRAME bytes (the server's maxPayload); anything else closes the session with a reason, never
 * the process.
 *
 *   client                               server
 *     | ---- upgrade (token, same origin) --> |
 *     | <----------- hello ------------------ |   plan, snapshot, history, timeline, applications
 *     | <----------- metrics (1/s) ---------- |
 *     | <----------- timeline (as it comes) - |
 *     | ---- {type:'tap', port, sample} ----> |
 *     | <----------- tap-opened / tap (5/s) - |
 *     | ---- {type:'fail', actor} ----------> |   a failure drill
 */
import type { WebSocket } from 'ws';
import type { RunMetrics } from '../metrics/run-metrics.ts';
import { MAX_SAMPLE, type Tap, TapError } from '../metrics/taps.ts';
import { planView } from './plan-view.ts';
import type { ConsoleTarget } from './target.ts';

export const MAX_FRAME = 4096;
/** A client that does not read: past this many bytes queued, the session is closed. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const MAX_TAPS = 8;

type Command =
  | { type: 'tap'; port: string; sample?: number }
  | { type: 'untap'; tap: number }
  | { type: 'fail'; actor: string };

export function startSession(
  ws: WebSocket,
  run: ConsoleTarget,
  collector: RunMetrics,
  /** The applications this console serves (a cluster supervisor's: the page offers a choice). */
  applications: readonly string[] = [],
): void {
  const taps = new Map<number, Tap>();
  let nextTap = 1;
  const send = (message: unknown) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(1008, 'not reading fast enough');
      return;
    }
    ws.send(JSON.stringify(message));
  };
  send({
    type: 'hello',
    plan: planView(run.plan),
    snapshot: collector.snapshot(),
    history: collector.history(),
    timeline: collector.timeline(),
    applications,
  });
  const unsubscribe = collector.subscribe(
    (point) => send({ type: 'metrics', snapshot: collector.snapshot(), point }),
    (entry) => send({ type: 'timeline', entry }),
  );
  const close = () => {
    unsubscribe();
    for (const t of taps.values()) t.close();
    taps.clear();
  };
  ws.on('close', close);
  // A frame over maxPayload or a protocol violation: ws closes the socket (1009/1002) after this.
  ws.on('error', close);
  ws.on('message', (data, isBinary) => {
    const command = isBinary ? undefined : parse(data.toString());
    if (command === undefined) {
      ws.close(1003, 'expected a JSON command');
      return;
    }
    try {
      handle(command);
    } catch (e) {
      if (!(e instanceof TapError)) throw e;
      send({ type: 'error', message: e.message });
    }
  });

  function handle(c: Command): void {
    switch (c.type) {
      case 'tap': {
        if (taps.size >= MAX_TAPS) throw new TapError(`at most ${MAX_TAPS} taps per connection`);
        const id = nextTap++;
        const tap = collector.taps.open(c.port, c.sample ?? 10, (sample) =>
          send({ type: 'tap', tap: id, ...sample }),
        );
        taps.set(id, tap);
        send({ type: 'tap-opened', tap: id, port: tap.port, channels: tap.channels });
        return;
      }
      case 'untap':
        taps.get(c.tap)?.close();
        taps.delete(c.tap);
        send({ type: 'tap-closed', tap: c.tap });
        return;
      case 'fail': {
        const ok = run.failActor(c.actor, `failure drill from the console on ${c.actor}`);
        send(ok ? { type: 'drilled', actor: c.actor } : { type: 'error', message: `no actor "${c.actor}"` });
        return;
      }
    }
  }
}

/** A command, or undefined for anything that is not one exactly. */
function parse(text: string): Command | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Record<string, unknown>;
  if (c.type === 'tap' && typeof c.port === 'string' && c.port.length <= 200) {
    if (c.sample === undefined) return { type: 'tap', port: c.port };
    if (Number.isInteger(c.sample) && (c.sample as number) >= 1 && (c.sample as number) <= MAX_SAMPLE)
      return { type: 'tap', port: c.port, sample: c.sample as number };
    return undefined;
  }
  if (c.type === 'untap' && Number.isInteger(c.tap)) return { type: 'untap', tap: c.tap as number };
  if (c.type === 'fail' && typeof c.actor === 'string' && c.actor.length <= 200)
    return { type: 'fail', actor: c.actor };
  return undefined;
}
