import { expect, it } from 'vitest';
import { KEY_GROUPS } from '../../src/api/durable-map.ts';
import { decodeState, encodeState } from '../../src/storage/codec.ts';
import {
  type IncrementalCheckpoint,
  type IncrementalRecord,
  readRecord,
  recordPieces,
} from '../../src/storage/incremental-record.ts';

/*
 * The first delta after a base carries a copy of the base, so a damaged base still restores. A base of
 * an empty DurableMap has no slices: its copy was written as "0 slices" and read back as no copy at all,
 * so a damaged empty base lost both kept generations (SLUICE_NO_VALID_CHECKPOINT; found by the
 * exactly-once property, seed 677044132).
 */
it('an empty base copy is read back as a copy', () => {
  const checkpoint: IncrementalCheckpoint = {
    skeleton: encodeState({ sums: null }),
    chainFrom: 3,
    parts: [
      {
        slot: 0,
        kind: 'delta',
        slices: [],
        groups: [],
        counts: [],
        sizes: new Array(KEY_GROUPS).fill(0),
        baseCopy: [],
        copyGroups: [],
        copyCounts: [],
      },
    ],
  };
  const bytes = Buffer.concat(recordPieces(checkpoint));
  const [part] = readRecord(decodeState(bytes) as IncrementalRecord).parts;
  expect(part!.baseCopy).toEqual([]);
  expect(part!.copyGroups).toEqual([]);

  const withoutCopy = {
    ...checkpoint,
    parts: [{ ...checkpoint.parts[0]!, baseCopy: undefined, copyGroups: undefined, copyCounts: undefined }],
  };
  const [plain] = readRecord(
    decodeState(Buffer.concat(recordPieces(withoutCopy))) as IncrementalRecord,
  ).parts;
  expect(plain!.baseCopy).toBeUndefined();
});
