/**
 * numbers → sums → files, one actor per container on 3 containers: a failed container has upstream
 * containers that live on (and replay into its replacement) and downstream ones that are replaced with it.
 * CHAIN_OUT names the output directory.
 */
import { application } from 'sluice';
import { FileSink } from '../../../actors/file-sink.ts';
import { SequenceSource } from '../../../actors/sequence-source.ts';
import { Sums } from './sums.ts';

export default application(
  'chain',
  (dag) => {
    const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 300, batch: 50 });
    const sums = dag.add('sums', Sums);
    const files = dag.add('files', FileSink, { dir: process.env.CHAIN_OUT ?? 'out/chain' });
    dag.stream('numbers', numbers.out, sums.in).locality('node');
    dag.stream('sums', sums.out, files.in).locality('node');
  },
  { streamingWindowMs: 20, checkpointWindowCount: 2 },
);
