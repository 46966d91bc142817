/**
 * Count windows on 3 containers: a source that holds each window until it emitted its 20 numbers (as
 * RedisStreamReadings with countWindows), a pass-through and a file sink, one per container. COUNTED_TOTAL:
 * how many numbers the source has in all (then it runs dry), or COUNTED_TOTAL_FILE a file holding it, read
 * when the source is set up (on a cluster, whose nodes keep their environment); COUNTED_OUT: the output
 * directory.
 */
import { application } from 'sluice';
import { FileSink } from '../../../actors/file-sink.ts';
import { CountedNumbers, FailOnce } from '../../kernel/operators.ts';

export default application(
  'counted',
  (dag) => {
    const src = dag.add('src', CountedNumbers, {
      chunk: 50,
      delayMs: 5,
      total: Number(process.env.COUNTED_TOTAL ?? 50),
      ...(process.env.COUNTED_TOTAL_FILE ? { totalFile: process.env.COUNTED_TOTAL_FILE } : {}),
      perWindow: 20,
    });
    const pass = dag.add('pass', FailOnce, { failAt: 0, log: { failed: false } });
    const files = dag.add('files', FileSink, { dir: process.env.COUNTED_OUT ?? 'out/counted' });
    dag.stream('numbers', src.out, pass.in).locality('node');
    dag.stream('passed', pass.out, files.in).locality('node');
  },
  { streamingWindowMs: 50, checkpointWindowCount: 4 },
);
