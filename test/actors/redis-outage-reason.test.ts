import { expect, test } from 'vitest';
import { outageReason } from '../../actors/redis/retry.ts';

test("an outage line says 'connection lost', not ioredis's note on maxRetriesPerRequest", () => {
  const lost = new Error(
    'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
  );
  expect(outageReason(lost)).toBe('connection lost');
  expect(outageReason(new Error('connect ECONNREFUSED 127.0.0.1:6390'))).toBe(
    'connect ECONNREFUSED 127.0.0.1:6390',
  );
});
