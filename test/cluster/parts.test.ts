import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster } from '../../src/cluster/client.ts';
import type { ClusterEvent } from '../../src/cluster/connection-state.ts';
import { encodeFrame } from '../../src/cluster/frames.ts';
import { PartAssembler, type PartFrame, splitBody } from '../../src/cluster/parts.ts';
import type { PeerConnection } from '../../src/cluster/peer-connection.ts';
import { Rpc } from '../../src/cluster-run/rpc.ts';
import { rawPeer, SECRET, startServer, until } from './kit.ts';

const limits = { partBytes: 100, maxMessage: 1000 };
const part = (p: Partial<PartFrame>): PartFrame => ({
  t: 'part',
  id: 1,
  of: 'call',
  index: 0,
  total: 250,
  sum: 0,
  bytes: new Uint8Array(100),
  ...p,
});

describe('parts: a body larger than a frame, split and reassembled', () => {
  it('reassembles what splitBody cut, for sizes around the part boundary', () => {
    for (const size of [1, 99, 100, 101, 250, 1000]) {
      const body = randomBytes(size);
      const parts = splitBody('reply', 7, body, 100);
      expect(parts.length).toBe(Math.ceil(size / 100));
      const assembler = new PartAssembler(limits);
      const got = parts.map((p) => assembler.accept(p));
      expect(got.slice(0, -1).every((g) => g === undefined)).toBe(true);
      expect(got.at(-1)).toEqual({ of: 'reply', id: 7, body: Buffer.from(body) });
      expect(assembler.held).toBe(0);
    }
  });

  it('refuses every broken sequence with SLUICE_CLUSTER_BAD_PART, holding no more than what arrived', () => {
    const body = randomBytes(250);
    const [p0, p1, p2] = splitBody('call', 1, body, 100) as [PartFrame, PartFrame, PartFrame];
    const damaged = Buffer.from(p2.bytes);
    damaged[0]! ^= 0xff;
    const cases: [string, PartFrame[], RegExp][] = [
      ['a huge declared total', [part({ total: 2 ** 40 })], /declared, over the 1000-byte limit/],
      ['a total just over the limit', [part({ total: 1001 })], /over the 1000-byte limit/],
      ['a first part that is not part 0', [part({ index: 1 })], /part 1 of call 1 before its part 0/],
      ['a skipped part', [p0, p2], /part 2 of call 1 where part 1 was due/],
      ['a repeated part', [p0, p0], /part 0 of call 1 where part 1 was due/],
      ['another body inside one', [p0, { ...p1, id: 2 }], /a part of call 2 inside call 1/],
      ['a reply inside a call', [p0, { ...p1, of: 'reply' }], /inside call 1/],
      ['a changed total', [p0, { ...p1, total: 300 }], /changes its total or checksum/],
      ['a changed checksum', [p0, { ...p1, sum: p1.sum ^ 1 }], /changes its total or checksum/],
      [
        'more bytes than declared',
        [part({ total: 150 }), part({ total: 150, index: 1 })],
        /more than the 150/,
      ],
      ['a damaged byte', [p0, p1, { ...p2, bytes: damaged }], /checksum mismatch/],
      ['an empty part', [part({ bytes: new Uint8Array(0) })], /a part of 0 bytes/],
      ['a part over the part size', [part({ bytes: new Uint8Array(101) })], /a part of 101 bytes/],
      ['a part of a note', [part({ of: 'note' })], /a part of a "note"/],
      ['a checksum wider than CRC-32', [part({ sum: 2 ** 33 })], /not a CRC-32/],
    ];
    for (const [name, parts, message] of cases) {
      const assembler = new PartAssembler(limits);
      let error: unknown;
      for (const p of parts) {
        try {
          assembler.accept(p);
        } catch (e) {
          error = e;
          break;
        }
        // Bounded by what arrived: never the declared total.
        expect(assembler.held).toBeLessThanOrEqual(parts.indexOf(p) * 100 + 100);
      }
      expect(error, name).toMatchObject({ code: 'SLUICE_CLUSTER_BAD_PART' });
      expect((error as Error).message, name).toMatch(message);
      // Dropped: the next body starts afresh.
      expect(assembler.held, name).toBe(0);
      expect(new PartAssembler(limits).accept(splitBody('call', 9, body.subarray(0, 50), 100)[0]!)).toEqual({
        of: 'call',
        id: 9,
        body: body.subarray(0, 50),
      });
    }
  });
});

describe('parts over real WebSockets on 127.0.0.1', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function echoServer(limits?: ConstructorParameters<typeof Rpc>[1]) {
    const peers: PeerConnection[] = [];
    const s = await startServer({
      onPeer: (p) => {
        peers.push(p);
        new Rpc(p, limits)
          .attach()
          .onCall((m, a) =>
            m === 'echo'
              ? a[0]
              : m === 'bytes'
                ? new Uint8Array(a[0] as number)
                : (a[0] as Uint8Array).length,
          );
      },
    });
    closers.push(() => s.server.close());
    return { ...s, peers };
  }

  it('carries a 5 MiB call and its 5 MiB reply as parts, bytes unchanged', async () => {
    const { url, peers } = await echoServer();
    const node = await joinCluster(url, { secret: SECRET });
    closers.push(() => node.close());
    const rpc = new Rpc(node).attach();
    const big = randomBytes(5 << 20);
    const back = (await rpc.call('echo', big)) as Uint8Array;
    expect(Buffer.from(back).equals(big)).toBe(true);
    // It went as parts: more messages than one call, both ways.
    expect(peers[0]!.received).toBeGreaterThanOrEqual(6);
    expect(node.received).toBeGreaterThanOrEqual(6);
    // Small calls still go as one frame, on the same connection afterwards.
    expect(await rpc.call('length', new Uint8Array(10))).toBe(10);
  });

  it('refuses a body over the message limit at the sender, with a reason, and the connection stays usable', async () => {
    const { url } = await echoServer();
    const node = await joinCluster(url, { secret: SECRET });
    closers.push(() => node.close());
    const rpc = new Rpc(node, { partBytes: 1000, maxMessage: 10_000 }).attach();
    await expect(rpc.call('length', new Uint8Array(20_000))).rejects.toMatchObject({
      code: 'SLUICE_CLUSTER_MESSAGE_TOO_LARGE',
    });
    expect(await rpc.call('length', new Uint8Array(5000))).toBe(5000);
  });

  it('answers a call whose reply is over the message limit with that error instead of no answer', async () => {
    const { url } = await echoServer({ partBytes: 1000, maxMessage: 10_000 });
    const node = await joinCluster(url, { secret: SECRET });
    closers.push(() => node.close());
    const rpc = new Rpc(node).attach();
    await expect(rpc.call('bytes', 20_000)).rejects.toMatchObject({
      code: 'SLUICE_CLUSTER_MESSAGE_TOO_LARGE',
    });
    expect(((await rpc.call('bytes', 9000)) as Uint8Array).length).toBe(9000);
  });

  it('closes (4015, logged reason) a peer that declares a huge body or sends parts out of order; others unaffected', async () => {
    const { url, events } = await echoServer();
    const refused = (e: ClusterEvent[]) => e.flatMap((x) => (x.event === 'refused' ? [x] : []));
    const bodies = [
      [encodeFrame(part({ total: 2 ** 50, bytes: new Uint8Array(10) }))],
      [encodeFrame(part({ total: 5 << 20 })), encodeFrame(part({ total: 5 << 20, index: 2 }))],
      [encodeFrame(part({ total: 150 })), encodeFrame(part({ total: 150, index: 1 }))],
    ];
    for (const [i, frames] of bodies.entries()) {
      const raw = await rawPeer(url);
      await raw.authenticate();
      for (const f of frames) raw.send(f);
      expect((await raw.closed).code).toBe(4015);
      await until(() => refused(events).length > i);
      expect(refused(events)[i]).toMatchObject({ code: 'SLUICE_CLUSTER_BAD_PART' });
    }
    expect(refused(events).map((e) => e.reason)).toEqual([
      expect.stringMatching(/declared, over the 67108864-byte limit/),
      expect.stringMatching(/part 2 of call 1 where part 1 was due/),
      expect.stringMatching(/more than the 150 bytes/),
    ]);
    // The server still serves a well-behaved peer with a large call.
    const node = await joinCluster(url, { secret: SECRET });
    closers.push(() => node.close());
    expect(await new Rpc(node).attach().call('length', new Uint8Array(3 << 20))).toBe(3 << 20);
  });
});
