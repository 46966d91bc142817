/**
 * A test application whose one stateful operator keeps ~5 MiB of state: every snapshot of it is several
 * times the cluster's 1 MiB frame limit, so checkpoints and restores over the cluster connection go as
 * parts. Each tuple changes one cell; each window ends with the CRC-32 of the whole table, so a restore
 * that lost or damaged any byte of the state changes the output. BIG_OUT names the output directory.
 */
import { crc32 } from 'node:zlib';
import { application, Operator } from 'sluice';
import { FileSink, SequenceSource } from 'sluice/actors';

export const STATE_BYTES = 5 << 20;

type Out = { value: number; n: number; cell: number } | { n: number; crc: number };

class Ledger extends Operator<{ cells: Uint8Array; n: number }> {
  readonly out = this.output<Out>();
  readonly in = this.input<number>((value) => {
    const { cells } = this.state;
    const i = Math.imul(value + 1, 2654435761) >>> 0;
    const at = i % cells.length;
    cells[at] = (cells[at]! + value + 1) & 255;
    this.state.n++;
    this.out.emit({ value, n: this.state.n, cell: cells[at]! });
  });

  override initialState() {
    // Not zeros: a restore that kept the size but lost the content shows too.
    const cells = new Uint8Array(STATE_BYTES);
    for (let i = 0; i < cells.length; i++) cells[i] = (i * 7 + (i >>> 12)) & 255;
    return { cells, n: 0 };
  }

  override endWindow(): void {
    this.out.emit({ n: this.state.n, crc: crc32(this.state.cells) });
  }
}

export default application(
  'big-state',
  (dag) => {
    const numbers = dag.add('numbers', SequenceSource, { tuplesPerWindow: 20, batch: 5 });
    const ledger = dag.add('ledger', Ledger);
    const files = dag.add('files', FileSink, { dir: process.env.BIG_OUT ?? 'out/big-state' });
    dag.stream('numbers', numbers.out, ledger.in);
    dag.stream('ledger', ledger.out, files.in);
  },
  { checkpointWindowCount: 3 },
);
