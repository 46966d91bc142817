import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/engine/channel.ts';
import { OperatorFailure } from '../../src/engine/failure.ts';
import { BEGIN, DATA, END, type Message } from '../../src/engine/messages.ts';
import { application, Operator, RestartStrategy } from '../../src/index.ts';
import { TupleNotEncodableError } from '../../src/transport/errors.ts';
import { eventsOf, start } from './kit.ts';
import { ListSource, Pass } from './operators.ts';

const source = { stream: 'readings', actorId: 'source#0', operator: 'source' };

/** Windows 1..n, each BEGIN, two batches of records, END. */
function fill(ch: Channel, windows: number): Message[] {
  const sent: Message[] = [];
  for (let w = 1; w <= windows; w++) {
    const batches = [0, 1].map((b) =>
      Array.from({ length: 5 }, (_, i) => ({ w, seq: b * 5 + i, v: (w * 10 + i) / 4 })),
    );
    const messages: Message[] = [
      { kind: BEGIN, window: w },
      ...batches.map((tuples) => ({ kind: DATA, window: w, tuples }) as const),
      { kind: END, window: w },
    ];
    for (const m of messages) {
      ch.append(m);
      sent.push(structuredClone(m));
    }
  }
  return sent;
}

function readAll(ch: Channel): Message[] {
  const out: Message[] = [];
  while (ch.backlog > 0) out.push(ch.read());
  return out;
}

describe('a retaining channel keeps read batches encoded', () => {
  it('rewinds after a window and gives back equal tuples in the same order', () => {
    const ch = new Channel(1, 1000, true, source);
    const sent = fill(ch, 4);
    const first = readAll(ch);
    expect(first).toEqual(sent);
    first.forEach((m) => {
      if (m.kind === DATA) m.tuples.length = 0; // the consumer may do anything with what it was given
    });
    ch.rewindAfter(2);
    expect(readAll(ch)).toEqual(sent.filter((m) => m.window > 2));
    ch.rewindAfter(0);
    expect(readAll(ch)).toEqual(sent);
  });

  it('purges what is committed: a later rewind starts after it', () => {
    const ch = new Channel(1, 1000, true, source);
    const sent = fill(ch, 5);
    readAll(ch);
    ch.purgeThrough(3);
    expect(ch.buffered).toBe(sent.filter((m) => m.window > 3).length);
    ch.rewindAfter(0);
    expect(readAll(ch)).toEqual(sent.filter((m) => m.window > 3));
  });

  it('truncates what a restored producer will write again, read or not', () => {
    const ch = new Channel(1, 1000, true, source);
    const sent = fill(ch, 4);
    for (let i = 0; i < 10; i++) ch.read(); // windows 1, 2 and the BEGIN and a batch of 3
    ch.truncateAfter(2);
    expect(ch.backlog).toBe(0);
    const again = fill(new Channel(2, 1000, true, source), 4).filter((m) => m.window > 2);
    for (const m of again) ch.append(m);
    expect(readAll(ch)).toEqual(sent.filter((m) => m.window > 2));
    ch.rewindAfter(0);
    expect(readAll(ch)).toEqual(sent);
  });

  it('fails the producing actor, naming the stream, for a tuple it cannot keep', () => {
    class Reading {
      constructor(readonly v: number) {}
    }
    const ch = new Channel(1, 1000, true, source);
    ch.append({ kind: BEGIN, window: 7 });
    ch.append({ kind: DATA, window: 7, tuples: [new Reading(1)] });
    ch.read();
    let error: unknown;
    try {
      ch.read();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OperatorFailure);
    const failure = error as OperatorFailure;
    expect([failure.actorId, failure.operator, failure.window]).toEqual(['source#0', 'source', 7]);
    expect(failure.cause).toBeInstanceOf(TupleNotEncodableError);
    expect(failure.message).toContain('stream "readings"');
    expect(failure.message).toContain('an instance of Reading');
  });

  it('without retention keeps nothing once read (replayFrom sources, no checkpoints)', () => {
    const ch = new Channel(1, 1000, false, source);
    fill(ch, 2);
    readAll(ch);
    expect(ch.buffered).toBe(0);
  });
});

describe('a tuple that cannot be kept for replay, in a run', () => {
  class Money {
    constructor(readonly cents: number) {}
  }
  // Keeps durable state, so its stream keeps a buffer (an input's or a stateless operator's would not).
  class Pricing extends Operator<{ priced: number }> {
    readonly out = this.output<Money>();
    readonly in = this.input<number>((cents) => {
      this.state.priced++;
      this.out.emit(new Money(cents));
    });
    override initialState() {
      return { priced: 0 };
    }
  }
  const app = application('unencodable', (dag) => {
    const src = dag.add('cents', ListSource<number>, { make: (i: number) => i, perWindow: 3 });
    const prices = dag.add('prices', Pricing);
    const pass = dag.add('pass', Pass<Money>);
    dag.stream('cents', src.out, prices.in).locality('container');
    dag.stream('amounts', prices.out, pass.in).locality('container');
  });

  it('fails the producing operator, naming the stream and the value', async () => {
    const { run } = await start(app, {
      windows: 4,
      checkpointWindowCount: 2,
      replayFrom: 'buffers',
      restart: RestartStrategy.stop(),
    });
    const error = await run.done.then(
      () => undefined,
      (e: unknown) => e as OperatorFailure,
    );
    expect(error).toBeInstanceOf(OperatorFailure);
    expect([error!.operator, error!.window]).toEqual(['prices', 1]);
    expect((error!.cause as TupleNotEncodableError).code).toBe('SLUICE_TUPLE_NOT_ENCODABLE');
    expect(error!.message).toContain('stream "amounts"');
    expect(error!.message).toContain('an instance of Money');
  });

  it('is not restarted: a replay would send the same tuple again', async () => {
    const { run, events } = await start(app, { windows: 4, checkpointWindowCount: 2, replayFrom: 'buffers' });
    const error = await run.done.then(
      () => undefined,
      (e: unknown) => e as OperatorFailure,
    );
    expect((error!.cause as TupleNotEncodableError).code).toBe('SLUICE_TUPLE_NOT_ENCODABLE');
    expect(eventsOf(events, 'restart')).toEqual([]);
  });

  it("runs by default (replayFrom: 'sources'), where nothing is kept", async () => {
    const { run, events } = await start(app, { windows: 4, checkpointWindowCount: 2 });
    await run.done;
    const last = eventsOf(events, 'window').at(-1);
    expect([last?.window, last?.tuples]).toEqual([4, 12]);
  });
});
