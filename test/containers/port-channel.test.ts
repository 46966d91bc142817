import { MessageChannel } from 'node:worker_threads';
import { expect, test } from 'vitest';
import {
  PortChannelIn,
  PortChannelOut,
  PostBuffers,
  packPost,
  postLength,
  unpackPost,
} from '../../src/container/port-channel.ts';
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

test('post buffers are recycled: a buffer the consumer has read to the end goes back and is packed into again', async () => {
  const { out, inbound, close } = pair(8);
  const buffers = (out as unknown as { buffers: PostBuffers }).buffers;
  const allocated: number[] = [];
  let next = 0;
  const seen: number[] = [];
  for (let r = 0; r < 6; r++) {
    // Two posts of 2 batches each (postEvery = 8 / 4), every round's batches a little longer; then
    // everything is read (4 reads: 2 credits, which carry the buffers back).
    for (let b = 0; b < 4; b++) {
      const tuples = Array.from({ length: 100 + r * 20 }, () => next++);
      out.append({ kind: DATA, window: r + 1, tuples });
    }
    allocated.push(buffers.allocated);
    await delivered();
    while (inbound.backlog > 0) {
      const m = inbound.read();
      if (m.kind === DATA) seen.push(...(m.tuples as number[]));
    }
    await delivered();
  }
  // Every tuple arrived once, in order, though later posts went in reused buffers longer than they.
  expect(seen).toEqual(Array.from({ length: next }, (_, i) => i));
  // The first round allocated its two buffers; the later rounds packed into those that came back.
  expect(allocated[0]).toBe(2);
  expect(allocated.at(-1)).toBe(2);
  close();
});

test('PostBuffers gives a recycled buffer only when it is large enough, and drops detached ones', () => {
  const pool = new PostBuffers(2);
  const a = pool.take(1000);
  expect(a.byteLength).toBeGreaterThanOrEqual(1000);
  expect(a.byteLength % 4096).toBe(0);
  pool.give([a]);
  expect(pool.take(a.byteLength + 1)).not.toBe(a); // too small: a fresh one
  expect(pool.take(10)).toBe(a);
  const moved = new ArrayBuffer(64);
  structuredClone(moved, { transfer: [moved] }); // detached: byteLength 0
  pool.give([moved, new ArrayBuffer(8), new ArrayBuffer(16), new ArrayBuffer(32)]);
  expect(pool.take(16).byteLength).toBe(16); // at most 2 kept (8 and 16), the detached one dropped
  expect(pool.take(8).byteLength).toBe(8);
  expect(pool.take(8).byteLength).toBe(4096);
});

test('a post packed into a longer buffer reads back the same, and postLength is its packed size', () => {
  const batch = new Uint8Array(13).map((_, i) => i + 1);
  const exact = packPost([
    { k: DATA, w: 4, b: batch },
    { k: 2, w: 4 },
  ]);
  const long = packPost(
    [
      { k: DATA, w: 4, b: batch },
      { k: 2, w: 4 },
    ],
    (size) => new Uint8Array(size + 100).fill(0xee).buffer,
  );
  expect(postLength(long)).toBe(exact.byteLength);
  expect(Buffer.from(long, 0, postLength(long)).equals(Buffer.from(exact))).toBe(true);
  const [data, end] = unpackPost(long);
  expect(Buffer.from((data as { b: Uint8Array }).b).equals(Buffer.from(batch))).toBe(true);
  expect(end).toEqual({ k: 2, w: 4 });
});
