/**
 * The raw baseline's two ends (bench/locality-run.ts starts them): the same batches sluice sends across
 * containers — 1024 numbers, encoded by the batch codec into a transferred buffer — over a bare
 * MessagePort, with no framework: no windows, no credits, no scheduler.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { decodeBatch, encodeBatch } from '../src/transport/batch-codec.ts';

const { role, port, batches, markAfter } = workerData as {
  role: 'produce' | 'consume';
  port: MessagePort;
  batches: number;
  /** Batches after which the consumer tells the parent (the start of the steady state); 0: never. */
  markAfter: number;
};

if (role === 'produce') {
  parentPort!.once('message', () => {
    let next = 0;
    for (let b = 0; b < batches; b++) {
      const tuples = new Array<number>(1024);
      for (let i = 0; i < 1024; i++) tuples[i] = next++;
      const bytes = encodeBatch(tuples);
      port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    }
    port.postMessage(null);
  });
  parentPort!.postMessage('ready');
} else {
  let n = 0;
  let sum = 0;
  let received = 0;
  port.on('message', (bytes: Uint8Array | null) => {
    if (bytes === null) {
      parentPort!.postMessage({ n, sum });
      port.close();
      return;
    }
    const tuples = decodeBatch(bytes) as number[];
    for (let i = 0; i < tuples.length; i++) sum += tuples[i]!;
    n += tuples.length;
    if (++received === markAfter) parentPort!.postMessage('mark');
  });
  parentPort!.postMessage('ready');
}
