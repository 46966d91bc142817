import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { PeerConnection } from '../../src/cluster/peer-connection.ts';
import { bridgeIn, bridgeOut } from '../../src/cluster-run/link-bridge.ts';
import { PortChannelIn, PortChannelOut } from '../../src/container/port-channel.ts';
import { DATA, END, type Message } from '../../src/engine/messages.ts';
import { SECRET, startServer, until } from './kit.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * A port channel's two ends bridged over a real authenticated WebSocket on 127.0.0.1 (zero-masked, posts
 * as raw messages), as two nodes' main threads do, with the producer's credit `credit`.
 */
async function bridged(credit: number) {
  let serverPeer: PeerConnection | undefined;
  const { server, url } = await startServer({ onPeer: (p) => (serverPeer = p) });
  closers.push(() => server.close());
  const client = await joinCluster(url, { secret: SECRET, zeroMask: true });
  closers.push(() => client.close());
  await until(() => serverPeer !== undefined);
  const producer = new MessageChannel();
  const consumer = new MessageChannel();
  let wakeOut = () => {};
  let wakeIn = () => {};
  const out = new PortChannelOut(1, 1, producer.port1, () => wakeOut(), undefined, false, credit);
  const inn = new PortChannelIn(1, 1, consumer.port2, () => wakeIn(), credit);
  bridgeOut(producer.port2, client);
  bridgeIn(consumer.port1, serverPeer!, []);
  closers.push(() => {
    out.close();
    inn.close();
  });
  return {
    out,
    inn,
    onWakeOut: (f: () => void) => (wakeOut = f),
    onWakeIn: (f: () => void) => (wakeIn = f),
  };
}

describe('a port channel bridged between two nodes over an authenticated WebSocket', () => {
  for (const credit of [4, 64]) {
    it(`delivers 600 batches in order with a producer credit of ${credit}, never stalling on credits the consumer's node holds back`, async () => {
      const { out, inn, onWakeOut, onWakeIn } = await bridged(credit);
      const got: Message[] = [];
      const total = 600;
      let sent = 0;
      let maxUnread = 0;
      let ended = false;
      // The consumer reads whenever its port delivered; the producer appends while it has room.
      const read = () => {
        while (inn.backlog > 0) got.push(inn.read());
      };
      onWakeIn(() => setImmediate(read));
      const produce = () => {
        while (sent < total && out.hasRoom) {
          const tuples = Array.from({ length: 100 }, (_, i) => sent * 100 + i);
          out.append({ kind: DATA, window: Math.floor(sent / 50), tuples });
          sent++;
          maxUnread = Math.max(maxUnread, sent - got.length);
        }
        if (sent === total && !ended) {
          ended = true;
          out.append({ kind: END, window: Math.floor((total - 1) / 50) });
        }
      };
      onWakeOut(() => setImmediate(produce));
      produce();
      await until(() => got.length === total + 1);
      const data = got.filter((m) => m.kind === DATA) as Array<{ tuples: number[] }>;
      expect(data.length).toBe(total);
      expect(data.every((m, b) => m.tuples.length === 100 && m.tuples[0] === b * 100)).toBe(true);
      expect(got.at(-1)).toEqual({ kind: END, window: 11 });
      // Bounded end to end: the producer's credit plus what the consumer's node may grant ahead (64).
      expect(maxUnread).toBeLessThanOrEqual(credit + 64);
    });
  }
});

describe('a batch larger than a frame between two nodes', () => {
  it('crosses in parts, reassembled in order between the batches around it (a tuple of 3 MB)', async () => {
    const { out, inn, onWakeIn } = await bridged(16);
    const got: Message[] = [];
    onWakeIn(() =>
      setImmediate(() => {
        while (inn.backlog > 0) got.push(inn.read());
      }),
    );
    const big = 'x'.repeat(3_000_000);
    out.append({ kind: DATA, window: 1, tuples: [1, 2] });
    out.append({ kind: DATA, window: 1, tuples: [{ big }] });
    out.append({ kind: DATA, window: 1, tuples: [3] });
    out.append({ kind: END, window: 1 });
    await until(() => got.length === 4);
    const data = got.filter((m) => m.kind === DATA) as Array<{ tuples: unknown[] }>;
    expect(data.map((m) => m.tuples.length)).toEqual([2, 1, 1]);
    expect((data[1]!.tuples[0] as { big: string }).big).toBe(big);
    expect(data[2]!.tuples).toEqual([3]);
    expect(got.at(-1)).toEqual({ kind: END, window: 1 });
  });
});
