import fc from 'fast-check';
import { expect, test } from 'vitest';
import { ClusterProtocolError } from '../src/cluster/errors.ts';
import { decodeFrame, encodeFrame } from '../src/cluster/frames.ts';
import { propertySeed } from './cases.ts';

/*
 * Whatever bytes an authenticated peer sends, decoding either yields a frame of a known shape or throws a
 * ClusterProtocolError (which closes that one connection): never another exception, which would be a
 * crash path. Inputs: random bytes, and valid frames with random bytes overwritten (near-valid CBOR is
 * what reaches the deeper branches).
 * Replay a failure: SLUICE_PROPERTY_SEED=<seed> npx vitest run property-tests/cluster-decode.test.ts
 */
const seed = propertySeed;

const frameArb = fc.oneof(
  fc.record({ t: fc.constant('ping' as const), seq: fc.nat() }),
  fc.record({
    t: fc.constant('join' as const),
    nodeId: fc.string({ minLength: 1, maxLength: 20 }),
    build: fc.string({ minLength: 1, maxLength: 20 }),
    containers: fc.nat({ max: 64 }),
  }),
  fc.record({
    t: fc.constant('data' as const),
    stream: fc.string({ minLength: 1, maxLength: 10 }),
    seq: fc.nat(),
    batch: fc.uint8Array({ maxLength: 64 }),
  }),
);

function decodesOrRefuses(bytes: Uint8Array): void {
  try {
    const frame = decodeFrame(bytes);
    expect(['ping', 'pong', 'join', 'data', 'bye']).toContain(frame.t);
  } catch (err) {
    if (!(err instanceof ClusterProtocolError)) throw err;
  }
}

test(`decoding any bytes yields a valid frame or a ClusterProtocolError (seed ${seed})`, () => {
  console.log(`cluster-decode seed ${seed}`);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodesOrRefuses(bytes)),
    { seed, numRuns: 3000 },
  );
  fc.assert(
    fc.property(
      frameArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (frame, edits) => {
        const bytes = Uint8Array.from(encodeFrame(frame));
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        decodesOrRefuses(bytes);
      },
    ),
    { seed, numRuns: 3000 },
  );
});
