import { Operator } from '../src/index.ts';
import { checkProps } from './props.ts';

export interface ConsoleSinkProps {
  /** Printed before each line. */
  prefix?: string;
  /** Where lines go (default process.stdout). */
  write?: (line: string) => void;
}

/** Prints every tuple as a line of JSON, tagged with its window (at-least-once: a replay prints again). */
export class ConsoleSink<T> extends Operator<{}, ConsoleSinkProps> {
  private window = 0;
  readonly in = this.input<T>((t) => {
    const line = `${this.props.prefix ?? ''}[${this.window}] ${JSON.stringify(t)}\n`;
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
