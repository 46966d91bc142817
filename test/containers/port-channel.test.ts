import { MessageChannel } from 'node:worker_threads';
import { expect, test } from 'vitest';
import { PortChannelIn, PortChannelOut } from '../../src/container/port-channel.ts';
import { DATA } from '../../src/engine/messages.ts';

/** Lets the ports deliver what was posted (MessagePort messages arrive on later turns). */
const delivered = () => new Promise((r) => setTimeout(r, 20));

function pair(capacity: number) {
  const { port1, port2 } = new MessageChannel();
  const wakes = { out: 0, in: 0 };
  const out = new PortChannelOut(1, capacity, port1, () => wakes.out++);
  const inbound = new PortChannelIn(1, capacity, port2, () => wakes.in++);
  return {
    out,
    inbound,
    wakes,
    close: () => {
      out.close();
      inbound.close();
    },
  };
}

test('the producer has room for `capacity` unread messages; reading grants the credit back', async () => {
  const { out, inbound, wakes, close } = pair(8);
  let appended = 0;
  while (out.hasRoom) {
    out.append({ kind: DATA, window: 1, tuples: [appended++] });
  }
  expect(appended).toBe(8);
  await delivered();
  expect(out.hasRoom).toBe(false); // nothing read yet: no credit came back
  expect(inbound.backlog).toBe(8);
  inbound.read(); // credit goes back every capacity/4 = 2 reads
  await delivered();
  expect(out.hasRoom).toBe(false);
  inbound.read();
  await delivered();
  expect(out.hasRoom).toBe(true);
  expect(wakes.out).toBe(1); // the producer's scheduler is woken when room comes back
  expect(wakes.in).toBeGreaterThanOrEqual(1); // and the consumer's when its mailbox got something
  close();
});

test('a tuple that cannot be encoded fails the producing actor, naming the stream', () => {
  const { port1, port2 } = new MessageChannel();
  const out = new PortChannelOut(1, 4, port1, () => {}, {
    stream: 'numbers',
    actorId: 'src',
    operator: 'src',
  });
  expect(() => out.append({ kind: DATA, window: 2, tuples: [{ f: () => 1 }] })).toThrow(
    /operator "src" \(src\) failed in window 2 during tuple: .*numbers/,
  );
  port1.close();
  port2.close();
});
