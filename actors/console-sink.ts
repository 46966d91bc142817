import { inspect } from 'node:util';
import { Operator } from '../src/index.ts';
import { checkProps } from './props.ts';

export interface ConsoleSinkProps {
  /** Printed before each line. */
  prefix?: string;
  /** Where lines go (default process.stdout). */
  write?: (line: string) => void;
}

/**
 * Prints every tuple as a line of JSON, tagged with its window (at-least-once: a replay prints again).
 * What JSON cannot show (a BigInt, a cycle, a function) is printed as Node's inspect shows it, on one
 * line: a console sink never fails on a tuple.
 */
export class ConsoleSink<T> extends Operator<{}, ConsoleSinkProps> {
  private window = 0;
  readonly in = this.input<T>((t) => {
    const line = `${this.props.prefix ?? ''}[${this.window}] ${printable(t)}\n`;
    (this.props.write ?? ((s: string) => process.stdout.write(s)))(line);
  });

  constructor(props?: ConsoleSinkProps) {
    super(props);
    checkProps('ConsoleSink', this.props, { prefix: 'text', write: 'function' });
  }

  override beginWindow(windowId: number): void {
    this.window = windowId;
  }
}

function printable(t: unknown): string {
  try {
    const json = JSON.stringify(t);
    if (json !== undefined) return json;
  } catch {
    // A BigInt or a cycle: inspect shows it.
  }
  return inspect(t, { breakLength: Number.POSITIVE_INFINITY, depth: 4 });
}
