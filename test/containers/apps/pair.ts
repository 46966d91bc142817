/**
 * numbers → sink (a CollectSink): two actors, so on 3 containers one container hosts none. For the
 * test kit's runs on containers (final-window.test.ts), which record what the sink applies.
 */
import { application } from 'sluice';
import { Collected, CollectSink } from '../../../actors/collect-sink.ts';
import { SequenceSource } from '../../../actors/sequence-source.ts';

export default application('pair', (dag) => {
  const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 7, batch: 3 });
  const sink = dag.add('sink', CollectSink<number>, { into: new Collected<number>() });
  dag.stream('numbers', numbers.out, sink.in).locality('node');
});
