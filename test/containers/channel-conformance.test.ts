import { MessageChannel } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { PortChannelIn, PortChannelOut } from '../../src/container/port-channel.ts';
import { Channel } from '../../src/engine/channel.ts';
import { BEGIN, DATA, END, type Message } from '../../src/engine/messages.ts';

/** The producer's and the consumer's view of one channel, whatever carries it. */
interface Ends {
  readonly producer: Channel;
  readonly consumer: Channel;
  /** Lets what was posted arrive (cross-thread messages are delivered on later turns). */
  settle(): Promise<void>;
  close(): void;
}

const implementations: [string, (capacity: number) => Ends][] = [
  [
    'in-thread Channel',
    (capacity) => {
      const channel = new Channel(1, capacity, false);
      return { producer: channel, consumer: channel, settle: async () => {}, close: () => {} };
    },
  ],
  [
    'cross-thread PortChannelOut → PortChannelIn',
    (capacity) => {
      const { port1, port2 } = new MessageChannel();
      const out = new PortChannelOut(1, capacity, port1, () => {});
      const inbound = new PortChannelIn(1, capacity, port2, () => {});
      return {
        producer: out,
        consumer: inbound,
        settle: () => new Promise((r) => setTimeout(r, 20)),
        close: () => {
          out.close();
          inbound.close();
        },
      };
    },
  ],
];

/*
 * One contract for every channel (ARCHITECTURE, "The life of a tuple"): windows cut in-band, messages in
 * the order written, tuples as they were, and a bounded mailbox — the producer has room for `capacity`
 * unread messages and gets it back as the consumer reads.
 */
describe.each(implementations)('%s', (_name, make) => {
  test('delivers markers and batches in the order written, tuples unchanged', async () => {
    const ends = make(16);
    const sent: Message[] = [
      { kind: BEGIN, window: 7 },
      { kind: DATA, window: 7, tuples: [1, 2.5, -3] },
      { kind: DATA, window: 7, tuples: ['a', 'b'] },
      {
        kind: DATA,
        window: 7,
        tuples: [
          { k: 1, v: 'x' },
          { k: 2, v: 'y' },
        ],
      },
      { kind: DATA, window: 7, tuples: [{ nested: [1, { deep: null }] }] },
      { kind: END, window: 7 },
      { kind: BEGIN, window: 8 },
    ];
    for (const m of sent) ends.producer.append(m);
    await ends.settle();
    expect(ends.consumer.backlog).toBe(sent.length);
    const got: Message[] = [];
    while (ends.consumer.backlog > 0) got.push(ends.consumer.read());
    expect(got).toEqual(sent);
    ends.close();
  });

  test('holds the producer at capacity unread messages and gives room back as they are read', async () => {
    const ends = make(8);
    let written = 0;
    while (ends.producer.hasRoom && written < 100) {
      ends.producer.append({ kind: DATA, window: 1, tuples: [written++] });
      await ends.settle();
    }
    expect(written).toBe(8);
    expect(ends.consumer.backlog).toBe(8);
    while (ends.consumer.backlog > 0) ends.consumer.read();
    await ends.settle();
    expect(ends.producer.hasRoom).toBe(true);
    ends.close();
  });
});
