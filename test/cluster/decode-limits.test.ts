import { encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeLimited } from '../../src/cluster/decode-limits.ts';
import { decodeFrame, encodeFrame, MAX_PAYLOAD } from '../../src/cluster/frames.ts';

const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');
const nested = (depth: number) => Buffer.concat([Buffer.alloc(depth, 0x81), Buffer.from([0])]);

describe('limited CBOR decode of cluster frames', () => {
  const refused: Array<[string, Buffer, string]> = [
    ['empty', Buffer.alloc(0), 'BAD_FRAME'],
    ['5-byte array bomb (2^32-1 items)', hex('9affffffff'), 'DECODE_LIMIT'],
    ['9-byte array bomb (2^64-1 items)', hex('9bffffffffffffffff'), 'DECODE_LIMIT'],
    ['map bomb', hex('bafffffff0'), 'DECODE_LIMIT'],
    ['byte string longer than the frame', hex('5affffffff00'), 'BAD_FRAME'],
    ['text string longer than the frame', hex('7a00100000616263'), 'BAD_FRAME'],
    ['nesting 17 deep', nested(17), 'DECODE_LIMIT'],
    ['nesting 10,000 deep', nested(10_000), 'DECODE_LIMIT'],
    ['tag 28 (shared reference: cycles)', hex('d81ca0'), 'BAD_FRAME'],
    ['tag 29 (reference to a shared value)', hex('82d81ca0d81d00'), 'BAD_FRAME'],
    ['tag 27 (object built by class name)', hex('d81b826545727226f72a0'), 'BAD_FRAME'],
    ['tag 105 (record definition)', hex('d869a0'), 'BAD_FRAME'],
    ['tag 64 (typed array)', hex('d84043010203'), 'BAD_FRAME'],
    ['tag 1 (date)', hex('c11a5f000000'), 'BAD_FRAME'],
    ['tag 259 inside a map', hex('a16174d90103a0'), 'BAD_FRAME'],
    ['indefinite array', hex('9f01ff'), 'BAD_FRAME'],
    ['indefinite string', hex('7f6161ff'), 'BAD_FRAME'],
    ['reserved additional info', hex('1c'), 'BAD_FRAME'],
    ['unassigned simple value', hex('f0'), 'BAD_FRAME'],
    ['break outside an indefinite item', hex('ff'), 'BAD_FRAME'],
    ['truncated uint32', hex('1a0102'), 'BAD_FRAME'],
    ['map declaring more entries than bytes', hex('a2617401'), 'DECODE_LIMIT'],
    ['truncated map', hex('a261740161'), 'BAD_FRAME'],
    ['bytes after the frame', hex('0000'), 'BAD_FRAME'],
    ['integer map key', hex('a10102'), 'BAD_FRAME'],
    ['more than 100,000 items', Buffer.concat([hex('9a000186a1'), Buffer.alloc(100_001, 0)]), 'DECODE_LIMIT'],
  ];

  it.each(refused)('refuses %s', (_name, bytes, code) => {
    expect(() => decodeLimited(bytes)).toThrow(expect.objectContaining({ code: `SLUICE_CLUSTER_${code}` }));
  });

  it('refuses a decode bomb in well under a millisecond per attempt, allocating nothing for it', () => {
    const bomb = hex('9affffffff');
    const before = process.memoryUsage().heapUsed;
    let refusedCount = 0;
    for (let i = 0; i < 10_000; i++) {
      try {
        decodeLimited(bomb);
      } catch {
        refusedCount++;
      }
    }
    expect(refusedCount).toBe(10_000);
    // 10,000 refusals: a few MB of error objects at most, never the 34 GB the bomb declares.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 << 20);
  });

  it('decodes plain data at the limits: 16 deep, byte strings, floats, booleans, null', () => {
    expect(decodeLimited(nested(15))).toEqual([[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]);
    expect(decodeLimited(encode({ a: [1.5, -2, true, false, null], b: 'x' }))).toEqual({
      a: [1.5, -2, true, false, null],
      b: 'x',
    });
  });

  it('round-trips every frame type through encodeFrame and decodeFrame', () => {
    const frames = [
      { t: 'ping', seq: 0 },
      { t: 'pong', seq: 2 ** 40 },
      { t: 'join', nodeId: 'n1', build: 'sha256:00', containers: 4 },
      { t: 'data', stream: 's', seq: 1, batch: new Uint8Array([9, 8]) },
      { t: 'bye', reason: 'done' },
    ] as const;
    for (const frame of frames) {
      const decoded = decodeFrame(encodeFrame(frame));
      if (decoded.t === 'data') expect({ ...decoded, batch: Uint8Array.from(decoded.batch) }).toEqual(frame);
      else expect(decoded).toEqual(frame);
    }
  });

  it('refuses frames of the wrong shape', () => {
    const bad = [
      { t: 'ping', seq: -1 },
      { t: 'ping', seq: 1.5 },
      { t: 'ping', seq: 1, extra: 1 },
      { t: 'join', nodeId: '', build: 'b', containers: 1 },
      { t: 'join', nodeId: 'x'.repeat(257), build: 'b', containers: 1 },
      { t: 'join', nodeId: 'n', build: 'b', containers: 5000 },
      { t: 'data', stream: 's', seq: 1, batch: 'not bytes' },
      { t: 'toString', seq: 1 },
      { t: '__proto__', seq: 1 },
      { t: 2n ** 64n, seq: 1 },
      { t: 1.5, seq: 1 },
      'ping',
      null,
    ];
    for (const value of bad) {
      expect(() => decodeFrame(encode(value))).toThrow(
        expect.objectContaining({ code: 'SLUICE_CLUSTER_BAD_FRAME' }),
      );
    }
  });

  it('will not encode a frame over the size limit', () => {
    const batch = new Uint8Array(MAX_PAYLOAD);
    expect(() => encodeFrame({ t: 'data', stream: 's', seq: 0, batch })).toThrow(
      expect.objectContaining({ code: 'SLUICE_CLUSTER_FRAME_TOO_LARGE' }),
    );
  });
});
